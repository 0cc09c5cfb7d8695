import { h, append } from '../dom.js'
import { t, getLang, formatNumber, formatDateTime } from '../i18n.js'
import { getJson } from '../api.js'
import { cellView, createFootnotes, coverageText, legend, problem, targetCell } from '../components.js'
import { figuresIn } from '../figures.js'
import { periodLine, rulesNote } from './common.js'
import { agentTable } from './health.js'

export async function render (ctx) {
  const { state, view } = ctx
  const id = state.arg
  const [report, health] = await Promise.all([
    getJson(`/api/v1/reports/agencies/${encodeURIComponent(id)}`, { period: state.period }),
    getJson('/api/v1/reports/agent-health', { agency: id })
  ])
  if (ctx.stale()) return
  const name = report.ok ? report.data.agency.name : health.ok && health.data.agents[0] !== undefined ? health.data.agents[0].agencyName : id
  append(view, h('header', { class: 'page-head' },
    h('h1', { id: 'page-title', text: name }),
    h('p', { class: 'area-line', text: t('page.agency') })))

  append(view, h('h2', { text: t('agency.agents') }))
  if (!health.ok) append(view, problem(health))
  else append(view, agentTable(health.data.agents, { withAgency: false }))

  if (!report.ok) { append(view, h('h2', { text: t('agency.report') }), problem(report)); return }
  const r = report.data
  const a = r.agency
  const footnotes = createFootnotes()
  append(view,
    h('dl', { class: 'facts' },
      fact(t('agency.category'), t(`category.${a.category}`)),
      fact(t('col.connectionClass'), t(`class.${a.connectionClass}`)),
      fact(t('agency.isp'), a.isp),
      fact(t('agency.plan'), a.planDownMbps === null ? t('agency.planUnknown') : `${formatNumber(a.planDownMbps, 0)} / ${formatNumber(a.planUpMbps, 0)} ${t('unit.mbps')}`),
      fact(t('col.commune'), placeText(a.placement?.commune)),
      fact(t('col.legacyDistrict'), a.placement?.legacyDistrict ? `${placeText(a.placement.legacyDistrict)} — ${t('area.legacyDistrictTag')}` : t('agency.notPlaced')),
      a.placement ? fact(t('agency.placementNote'), placementNote(a.placement)) : null),
    periodLine(r.period),
    h('h2', { text: t('agency.figures') }),
    setApartNote(r.setApart),
    agentFigures(r.agents ?? []),
    h('h2', { text: t('agency.targets') }),
    legend(),
    (r.targets ?? []).length === 0 ? h('p', { class: 'empty', text: t('areas.noTarget') }) : h('div', { class: 'target-grid' }, r.targets.map((ev) => h('div', { class: 'target-card' }, targetCell(ev, footnotes)))),
    h('h2', { text: t('agency.qcvn34') }),
    qcvnTable(r.qcvn34 ?? [], r.rules),
    (r.qcvn126 ?? []).some((q) => q.applies) ? [h('h2', { text: t('agency.qcvn126') }), qcvn126Table(r.qcvn126)] : null,
    h('h2', { text: t('agency.recent') }),
    recentTable(r.recentResults ?? []),
    rulesNote(r.rules),
    footnotes.view())
}

function fact (label, value) {
  return [h('dt', { text: label }), h('dd', { text: value ?? '–' })]
}

/**
 * How the other geography was derived, in the page's language. The stored note is English
 * (it is written for the admin API); the Vietnamese page says the same from the placement itself.
 */
function placementNote (p) {
  if (getLang() === 'en' && p.note) return p.note
  if (p.legacyCommune) return t('placement.fromOldCommune', { place: placeText(p.legacyCommune) })
  if (p.legacyDistrict) return t('placement.singleDistrict', { place: placeText(p.legacyDistrict) })
  if (p.legacyProvince) return t('placement.ambiguous')
  return t('placement.unknown')
}

/** A validity flag in words; the code itself stays in the tooltip. */
function flagText (flags) {
  if ((flags ?? []).length === 0) return h('span', { text: '–' })
  return flags.map((f, i) => [i === 0 ? '' : '; ', h('span', { title: f, text: t(`flag.${f}`) === `flag.${f}` ? t('flag.other') : t(`flag.${f}`) })])
}

function placeText (p) {
  return p ? `${p.name} (${p.code})` : '–'
}

function agentFigures (agents) {
  if (agents.length === 0) return h('p', { class: 'empty', text: t('health.noAgents') })
  const keys = figuresIn('agent')
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, h('th', { text: t('col.agent') }), h('th', { text: t('col.coverage') }), keys.map((f) => h('th', { text: t(f.labelKey) })))),
    h('tbody', {}, agents.map((ag) => h('tr', {},
      h('th', { scope: 'row', class: 'mono', title: ag.id, text: ag.id.slice(0, 8) }),
      h('td', { class: 'coverage-cell', text: coverageText(ag.coverage) }),
      keys.map((f) => h('td', {}, cellView(ag.figures?.[f.key], f.unit, { compact: true }))))))))
}

function verdict (pass, applies) {
  if (!applies) return h('span', { class: 'badge st-na', text: t('qcvn.notApplicable') })
  if (pass === null) return h('span', { class: 'badge st-na', text: t('status.na') })
  return h('span', { class: ['badge', pass ? 'st-met' : 'st-far'], text: t(pass ? 'qcvn.pass' : 'qcvn.fail') })
}

function qcvnTable (rows, rules) {
  if (rows.length === 0) return h('p', { class: 'empty', text: t('health.noAgents') })
  return [h('p', { class: 'note', text: t('qcvn.note34', { min: formatNumber(rules?.qcvn34MinTests ?? 1000, 0) }) }),
    h('table', { class: 'data', id: 'qcvn34' },
      h('thead', {}, h('tr', {}, ['col.agent', 'qcvn.tests', 'qcvn.meanDown', 'qcvn.requiredDown', 'qcvn.meanUp', 'qcvn.requiredUp', 'qcvn.verdict', 'qcvn.steadyDown'].map((k) => h('th', { text: t(k) })))),
      h('tbody', {}, rows.map((q) => h('tr', { title: getLang() === 'en' ? (q.why ?? '') : null },
        h('th', { scope: 'row', class: 'mono', text: q.agentId.slice(0, 8) }),
        h('td', {}, formatNumber(q.tests, 0), q.tests < (rules?.qcvn34MinTests ?? 1000)
          ? h('div', { class: 'muted', text: t('qcvn.fewTests', { min: formatNumber(rules?.qcvn34MinTests ?? 1000, 0) }) })
          : null),
        h('td', { text: formatNumber(q.meanDownMbps, 1) }),
        h('td', { text: formatNumber(q.requiredDownMbps, 1) }),
        h('td', { text: formatNumber(q.meanUpMbps, 1) }),
        h('td', { text: formatNumber(q.requiredUpMbps, 1) }),
        h('td', {}, verdict(q.pass, q.applies), ' ', h('span', { class: 'muted', text: t('qcvn.indicative') })),
        h('td', { class: 'muted', text: formatNumber(q.steadyStateMeanDownMbps, 1) })))))]
}

function qcvn126Table (rows) {
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['col.agent', 'qcvn.tests', 'qcvn.meanDown', 'qcvn.meanUp', 'qcvn.share30', 'qcvn.meanLatency', 'qcvn.verdict'].map((k) => h('th', { text: t(k) })))),
    h('tbody', {}, rows.filter((q) => q.applies).map((q) => h('tr', { title: getLang() === 'en' ? (q.why ?? '') : null },
      h('th', { scope: 'row', class: 'mono', text: q.agentId.slice(0, 8) }),
      h('td', { text: formatNumber(q.tests, 0) }),
      h('td', { text: formatNumber(q.meanDownMbps, 1) }),
      h('td', { text: formatNumber(q.meanUpMbps, 1) }),
      h('td', { text: q.shareDownAtLeast30 === null ? '–' : `${formatNumber(q.shareDownAtLeast30 * 100, 0)} %` }),
      h('td', { text: formatNumber(q.meanLatencyMs, 1) }),
      h('td', {}, verdict(q.pass, q.applies), ' ', h('span', { class: 'muted', text: t('qcvn.indicative') }))))))
}

/**
 * When the latest speed result reached the machine's own link (docs/methodology.md §11), what the
 * IT person should change; null otherwise.
 */
function linkLimitedNote (rows) {
  const latest = rows.find((x) => x.kind === 'speed')
  if (latest === undefined || !(latest.flags ?? []).includes('local_link_limited')) return null
  return h('p', { class: 'notice', id: 'link-limited', text: t('agency.linkLimited', { mbps: formatNumber(latest.downloadMbps, 0) }) })
}

/**
 * Results over Wi-Fi or through a VPN are a series of their own: never in the figures or the
 * compliance checks (they measure the machine's radio or tunnel, not the line), but counted here.
 */
function setApartNote (s) {
  if (s === undefined || s === null || s.results === 0) return null
  return h('p', { class: 'notice', id: 'set-apart', text: t('agency.setApart', { n: formatNumber(s.results, 0), wifi: formatNumber(s.wifi, 0), vpn: formatNumber(s.vpn, 0) }) })
}

function recentTable (rows) {
  if (rows.length === 0) return h('p', { class: 'empty', text: t('agency.noResults') })
  return h('div', { class: 'table-wrap' }, linkLimitedNote(rows), h('table', { class: 'data compact', id: 'recent-results' },
    h('thead', {}, h('tr', {}, ['agency.measuredAt', 'agency.kind', 'agency.status', 'figure.download', 'figure.upload', 'figure.idleLatency', 'agency.valid', 'agency.flags'].map((k) => h('th', { text: t(k) })))),
    h('tbody', {}, rows.map((x) => h('tr', {},
      h('td', { text: formatDateTime(x.measuredAt) }),
      h('td', { text: t(`kind.${x.kind}`) }),
      h('td', { text: t(`resultStatus.${x.status}`) }),
      h('td', { class: 'num', text: formatNumber(x.downloadMbps, 1) }),
      h('td', { class: 'num', text: formatNumber(x.uploadMbps, 1) }),
      h('td', { class: 'num', text: formatNumber(x.idleLatencyMs, 1) }),
      h('td', { text: x.valid ? t('common.yes') : t('common.no') }),
      h('td', {}, flagText(x.flags)))))))
}
