import { h, append } from '../dom.js'
import { t, formatNumber } from '../i18n.js'
import { getJson } from '../api.js'
import { cellView, createFootnotes, coverageText, legend, problem, targetCell, targetRule, exportLinks, isShareStatistic } from '../components.js'
import { figuresIn } from '../figures.js'
import { pageHeading, periodLine, rulesNote, areaLevel } from './common.js'

export async function render (ctx) {
  const { state, view } = ctx
  append(view, pageHeading(ctx, 'overview'))
  const res = await getJson('/api/v1/reports/overview', { province: state.province, version: state.version, period: state.period })
  if (ctx.stale()) return
  if (!res.ok) { append(view, problem(res)); return }
  const r = res.data
  const footnotes = createFootnotes()
  const total = r.total

  append(view,
    periodLine(r.period),
    h('p', {
      class: 'coverage',
      text: `${t('coverage.title')}: ${coverageText(total?.coverage)}.` +
      (r.agencies ? ` ${t('coverage.agencies', { reporting: formatNumber(r.agencies.reporting, 0), enrolled: formatNumber(r.agencies.enrolled, 0) })}` : '')
    }),
    h('section', { class: 'cards', 'aria-label': t('overview.figures') },
      figuresIn('headline').map((f) => h('div', { class: 'card', dataset: { figure: f.key } },
        h('div', { class: 'card-label', text: t(f.labelKey) }),
        cellView(total?.figures?.[f.key], f.unit),
        h('div', { class: 'card-help', text: t(f.helpKey) })))),
    h('h2', { text: t('overview.targets') }),
    legend(),
    (r.targets ?? []).length === 0
      ? h('p', { class: 'empty', text: t('overview.noTargets') })
      : h('div', { class: 'target-grid' }, r.targets.map((ev) => h('div', { class: 'target-card' },
        targetCell(ev, footnotes),
        ev.attainment ? attainmentLine(ev.attainment) : null))),
    h('h2', { text: t('overview.byClass') }),
    classTable(r.byConnectionClass ?? []),
    r.consistentSpeed ? [h('h2', { text: t('mba.title') }), mbaTable(r.consistentSpeed)] : null,
    h('h2', { text: t('overview.lagging') }),
    laggingList(r.lagging ?? [], r.targets ?? []),
    exportLinks('/api/v1/reports/areas', { level: areaLevel(state), province: state.province, period: state.period }),
    officialLinks(state),
    rulesNote(r.rules),
    footnotes.view())
}

function attainmentLine (a) {
  if (a.status !== 'ok') return h('p', { class: 'attainment', text: t('attainment.insufficient', { n: a.n }) })
  return h('p', { class: 'attainment', text: t('attainment.line', { a: a.atLeast100, b: a.from80to100, c: a.below80, n: a.n }) })
}

function classTable (rows) {
  if (rows.length === 0) return h('p', { class: 'empty', text: t('overview.noClassRows') })
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { text: t('col.connectionClass') }), h('th', { text: t('col.coverage') }),
      figuresIn('byClass').map((f) => h('th', { text: t(f.labelKey) })))),
    h('tbody', {}, rows.map((row) => h('tr', {},
      h('th', { scope: 'row', text: t(`class.${row.split?.value ?? 'all'}`) }),
      h('td', { class: 'coverage-cell', text: coverageText(row.coverage) }),
      figuresIn('byClass').map((f) => h('td', {}, cellView(row.figures?.[f.key], f.unit, { compact: true })))))))
}

/** FCC MBA's 80/80 per ISP and plan tier, as a share of the plan speed at peak hours. */
function mbaTable (m) {
  if ((m.tiers ?? []).length === 0) return h('p', { class: 'empty', text: t('mba.none', { n: m.withoutPlan ?? 0 }) })
  return [
    h('table', { class: 'data', id: 'mba-8080' },
      h('thead', {}, h('tr', {}, ['agency.isp', 'col.connectionClass', 'mba.tier', 'mba.share', 'mba.mbps', 'mba.lines'].map((k) => h('th', { text: t(k) })))),
      h('tbody', {}, m.tiers.map((x) => h('tr', {},
        h('th', { scope: 'row', text: x.isp }),
        h('td', { text: t(`class.${x.connectionClass}`) }),
        h('td', { text: `${formatNumber(x.planDownMbps, 0)} ${t('unit.mbps')}` }),
        h('td', {}, cellView(x.shareOfPlan, 'share')),
        h('td', {}, cellView(x.mbps, 'mbps', { compact: true })),
        h('td', { text: `${formatNumber(x.agents, 0)}/${formatNumber(x.agentsInTier, 0)}` }))))),
    h('p', { class: 'note', text: t('mba.note', { n: m.withoutPlan ?? 0 }) })
  ]
}

function laggingList (lagging, targets) {
  if (lagging.length === 0) return h('p', { class: 'empty', text: t('overview.noLagging') })
  const byId = new Map(targets.map((ev) => [ev.targetId, ev]))
  return h('ul', { class: 'lagging' }, lagging.map((l) => {
    const ev = byId.get(l.targetId) ?? { targetId: l.targetId, thresholdMbps: l.thresholdMbps, statistic: null, document: l.document ?? '' }
    const unit = isShareStatistic(ev.statistic) ? 'share' : 'mbps'
    return h('li', {},
      h('strong', { text: l.area?.name ?? l.area?.code }),
      l.area?.level === 'legacy_district' ? ` (${t('area.legacyDistrictTag')})` : '',
      ` — ${ev.document ?? l.targetId}, ${targetRule({ ...ev, thresholdMbps: l.thresholdMbps })}: `,
      cellView(l.figure, unit))
  }))
}

/** The official report of this province and period, as the department files it: Word or PDF. */
function officialLinks (state) {
  const link = (format) => h('a', {
    class: ['export', 'official'],
    href: `/api/v1/reports/official?${new URLSearchParams({ province: state.province, version: state.version, period: state.period, format })}`,
    download: '',
    text: t(`official.${format}`)
  })
  return h('p', { class: 'exports', id: 'official-report' }, t('official.label'), ' ', link('docx'), ' · ', link('pdf'))
}
