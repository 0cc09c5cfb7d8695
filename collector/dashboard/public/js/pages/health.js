import { h, append } from '../dom.js'
import { t, formatNumber, formatDateTime, formatAgo } from '../i18n.js'
import { getJson } from '../api.js'
import { problem } from '../components.js'
import { pageHeading } from './common.js'

export const STATES = ['online', 'stale', 'offline', 'never']

export async function render (ctx) {
  const { state, view } = ctx
  append(view, pageHeading(ctx, 'health'))
  const res = await getJson('/api/v1/reports/agent-health', { province: state.province, version: state.version })
  if (ctx.stale()) return
  if (!res.ok) { append(view, problem(res)); return }
  const r = res.data
  append(view,
    h('section', { class: 'cards health-cards' }, STATES.map((s) => h('div', { class: ['card', `hs-${s}`], dataset: { state: s } },
      h('div', { class: 'card-label', text: t(`health.${s}`) }),
      h('div', { class: 'big', text: formatNumber(r.counts[s], 0) }),
      h('div', { class: 'card-help', text: t(`health.help.${s}`, { online: r.thresholds.onlineMaxS / 60, stale: r.thresholds.staleMaxS / 60 }) })))),
    agentTable(r.agents, { withAgency: true }),
    h('p', { class: 'note', text: t('health.rule', { online: r.thresholds.onlineMaxS / 60, stale: r.thresholds.staleMaxS / 60, at: formatDateTime(r.generatedAt) }) }))
}

export function agentTable (agents, { withAgency }) {
  if (agents.length === 0) return h('p', { class: 'empty', text: t('health.noAgents') })
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'health-table' },
    h('thead', {}, h('tr', {},
      withAgency ? h('th', { text: t('col.agency') }) : null,
      h('th', { text: t('col.agent') }),
      withAgency ? h('th', { text: t('col.place') }) : null,
      h('th', { text: t('col.state') }),
      h('th', { text: t('col.lastSeen') }),
      h('th', { text: t('col.lastResult') }),
      h('th', { text: t('col.results24h') }),
      h('th', { text: t('col.results7d') }),
      h('th', { text: t('col.version') }),
      h('th', { text: t('col.os') }))),
    h('tbody', {}, agents.map((a) => h('tr', { dataset: { agent: a.id, state: a.state } },
      withAgency ? h('th', { scope: 'row' }, h('a', { href: `#/agency/${encodeURIComponent(a.agencyId)}`, text: a.agencyName })) : null,
      h('td', { class: 'mono', title: a.id, text: a.label }),
      withAgency ? h('td', {}, a.communeName ?? a.communeCode, a.legacyDistrictName ? h('div', { class: 'muted', text: `${a.legacyDistrictName} (${t('area.legacyDistrictTag')})` }) : null) : null,
      h('td', {}, h('span', { class: ['badge', `hs-${a.state}`], text: t(`health.${a.state}`) }),
        a.status !== 'active' ? h('span', { class: 'badge st-na', text: t(`agentStatus.${a.status}`) }) : null),
      h('td', { title: a.lastSyncAt ? formatDateTime(a.lastSyncAt) : null, text: formatAgo(a.lastSyncAt) }),
      h('td', { text: formatDateTime(a.lastResultAt) }),
      h('td', { class: 'num', text: formatNumber(a.results24h, 0) }),
      h('td', { class: 'num', text: formatNumber(a.results7d, 0) }),
      h('td', {}, a.agentVersion ?? '–', a.outdated === true ? h('span', { class: 'badge outdated', title: t('health.outdatedHelp'), text: t('health.outdated') }) : null),
      h('td', { text: a.os ?? '–' }))))))
}
