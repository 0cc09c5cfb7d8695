import { ulid } from 'ulidx'
import type { Logger } from 'pino'
import type { Ipv6Store } from '../storage/stores.js'
import { assertResolverUp, checkHttpsV6, checkMxV6, checkNsV6, checkWebAaaa, findZone, ResolverUnavailableError, type CheckResult, type ProbeContext } from './checks.js'
import { checkDnssec } from './dnssec-check.js'
import type { AgencyServices } from './service-store.js'

/**
 * The central IPv6 service prober (methodology.md §10: agency services are checked from one
 * place, not from every agent). One run per agency stores every check with its evidence.
 */
export async function probeAgency (ctx: ProbeContext, services: AgencyServices): Promise<CheckResult[]> {
  // Checked first, so a resolver outage is not recorded as every agency's names timing out.
  await assertResolverUp(ctx)
  const webHosts: Array<[string | null, string]> = [[services.portalHost, 'portal host'], [services.publicServiceHost, 'public-service host']]
  const configured = webHosts.filter(([h]) => h !== null)
  const targets = configured.length > 0 ? configured : [[null, 'portal or public-service host'] as [null, string]]
  const results: CheckResult[] = []
  for (const [host, label] of targets) {
    results.push(await checkWebAaaa(ctx, host, label))
    results.push(await checkHttpsV6(ctx, host, label))
  }
  const anchor = services.portalHost ?? services.publicServiceHost ?? services.mailDomain
  const zone = services.dnsZone ?? (anchor === null ? null : await findZone(ctx, anchor))
  results.push(await checkNsV6(ctx, zone))
  results.push(await checkMxV6(ctx, services.mailDomain))
  results.push(await checkDnssec(ctx, zone))
  return results
}

export interface CycleOutcome { probed: number, failed: Array<{ agencyId: string, error: string }> }

/** Probes every agency with services, `concurrency` at a time, and stores each run. */
export async function runProbeCycle (store: Pick<Ipv6Store, 'allServices' | 'saveRun'>, ctx: ProbeContext, { concurrency, log, now = Date.now }: { concurrency: number, log?: Logger, now?: () => number }): Promise<CycleOutcome> {
  const queue = await store.allServices()
  const outcome: CycleOutcome = { probed: 0, failed: [] }
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const services = next
      try {
        const checks = await probeAgency(ctx, services)
        await store.saveRun(ulid(), services.agencyId, checks, now())
        outcome.probed++
      } catch (err) {
        // A resolver failure says nothing about the agency: store nothing, keep the last run.
        const error = err instanceof ResolverUnavailableError ? err.message : String(err)
        outcome.failed.push({ agencyId: services.agencyId, error })
        log?.warn({ agencyId: services.agencyId, err }, 'IPv6 service probe failed; nothing stored for this agency')
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  return outcome
}

export interface Scheduler { stop: () => void, runNow: () => Promise<CycleOutcome> }

/**
 * Runs a cycle every `intervalMs` ± `jitter` (default 10 %), so many collectors (and one
 * collector's restarts) do not hit the same name servers in step. The first run comes after
 * one jittered `firstDelayMs`. Cycles never overlap.
 */
export function startProbeScheduler (run: () => Promise<CycleOutcome>, { intervalMs, firstDelayMs = 60_000, jitter = 0.1, random = Math.random, log }: {
  intervalMs: number, firstDelayMs?: number, jitter?: number, random?: () => number, log?: Logger
}): Scheduler {
  let timer: NodeJS.Timeout | null = null
  let stopped = false
  let running: Promise<CycleOutcome> | null = null
  const jittered = (ms: number): number => Math.max(0, Math.round(ms * (1 + jitter * (2 * random() - 1))))
  const runNow = async (): Promise<CycleOutcome> => {
    if (running !== null) return await running
    running = run().finally(() => { running = null })
    return await running
  }
  const schedule = (ms: number): void => {
    if (stopped) return
    timer = setTimeout(() => {
      runNow()
        .then((o) => log?.info({ probed: o.probed, failed: o.failed.length }, 'IPv6 service probe cycle done'))
        .catch((err: unknown) => log?.error({ err }, 'IPv6 service probe cycle failed'))
        .finally(() => schedule(jittered(intervalMs)))
    }, ms)
    timer.unref()
  }
  schedule(jittered(firstDelayMs))
  return {
    stop: () => { stopped = true; if (timer !== null) clearTimeout(timer) },
    runNow
  }
}
