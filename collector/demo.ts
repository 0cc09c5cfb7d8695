import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPlacedAgency, type AgencyStores } from './fleet/admin.js'
import { hashToken, newToken } from './fleet/tokens.js'

export const DEMO_AGENCY_NAME = 'Sở Khoa học và Công nghệ tỉnh Kon Tum (demo)'

export interface DemoCredentials { agentId: string, token: string, agencyId: string, legacyProvinceCode: string }

/**
 * The embedded default: one demo agency in former Kon Tum city (old commune Quang Trung,
 * 23281, district 608; now Phường Kon Tum 23293 in Quảng Ngãi) and one local agent. The
 * agent's token is written to <dataDir>/demo-agent.json (mode 0600) because the collector
 * keeps only its hash.
 */
export async function ensureDemoAgent (stores: AgencyStores, dataDir: string, now = Date.now()): Promise<DemoCredentials> {
  const { fleet } = stores
  const file = join(dataDir, 'demo-agent.json')
  if (existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DemoCredentials
    const found = await fleet.agentByTokenHash(hashToken(saved.token))
    if (found !== undefined && found.agent.status === 'active') return saved
  }
  const agency = await fleet.agencyByName(DEMO_AGENCY_NAME) ?? await createPlacedAgency(stores, {
    name: DEMO_AGENCY_NAME,
    category: 'organisation',
    connectionClass: 'fixed',
    isp: 'demo (loopback)',
    planDownMbps: 1000,
    planUpMbps: 1000,
    communeCode: '23281',
    scheme: '2025-03'
  }, now)
  const token = newToken()
  const agent = await fleet.createAgent(agency.id, 'local demo agent', hashToken(token), now)
  const creds: DemoCredentials = { agentId: agent.id, token, agencyId: agency.id, legacyProvinceCode: agency.legacyProvinceCode ?? '62' }
  writeFileSync(file, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
  return creds
}
