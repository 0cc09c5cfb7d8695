import { h } from './dom.js'
import { t, getLang, formatNumber, formatShare } from './i18n.js'

export function formatValue (value, unit) {
  if (unit === 'share') return formatShare(value)
  return formatNumber(value, 1)
}

/**
 * One published figure: the value with its n, or "insufficient data" with n and the minimum.
 * Never a number below the publication minimum.
 */
export function cellView (cell, unit, { compact = false } = {}) {
  if (cell === null || cell === undefined) return h('span', { class: 'cell na', text: '–' })
  const basis = t(`basis.${cell.basis}`)
  const nText = t('cell.n', { n: formatNumber(cell.n, 0) })
  if (cell.status === 'ok') {
    const unitText = unit === 'share' ? '' : ' ' + t(`unit.${unit}`)
    return h('span', { class: 'cell ok', title: `${basis}; ${nText}${cell.minN ? '; ' + t('cell.minN', { min: formatNumber(cell.minN, 0) }) : ''}` },
      h('span', { class: 'v', text: formatValue(cell.value, unit) + (compact ? '' : unitText) }),
      h('span', { class: 'n', text: nText }))
  }
  const label = cell.status === 'no_data' ? t('cell.noData') : t('cell.insufficient')
  const detail = cell.status === 'no_data' ? nText : t('cell.nOfMin', { n: formatNumber(cell.n, 0), min: formatNumber(cell.minN, 0) })
  return h('span', { class: ['cell', cell.status === 'no_data' ? 'nodata' : 'insufficient'], title: `${label}: ${basis}; ${detail}` },
    h('span', { class: 'v', text: label }),
    h('span', { class: 'n', text: detail }))
}

/**
 * Attainment class of a target evaluation, from the figure the target is judged on:
 * met; within 80 % of what is required; further; or not publishable. The 80 % band follows
 * the attainment buckets of fleet-protocol.md §15 (≥ 100 %, 80–100 %, < 80 % of the target).
 */
export function attainmentClass (ev) {
  const f = ev.figure
  // A later-year horizon (e.g. 2030) is context, not this period's verdict: never coloured red.
  if (ev.horizon === true) return f?.status === 'ok' && ev.met === true ? 'met' : 'na'
  if (f === null || f === undefined || f.status !== 'ok' || ev.met === null || ev.met === undefined) return 'na'
  if (ev.met === true) return 'met'
  const required = isShareStatistic(ev.statistic) ? ev.requiredShare : ev.thresholdMbps
  if (typeof required !== 'number' || required <= 0) return 'far'
  return f.value / required >= 0.8 ? 'close' : 'far'
}

export function isShareStatistic (statistic) {
  return typeof statistic === 'string' && statistic.startsWith('share_of')
}

/** "200 Mb/s for 90 % of lines", "mean ≥ 40 Mb/s", in words. */
export function targetRule (ev) {
  const threshold = formatNumber(ev.thresholdMbps, 0)
  if (isShareStatistic(ev.statistic)) {
    return t(ev.statistic === 'share_of_lines_mean_above' ? 'target.ruleShareAbove' : ev.statistic === 'share_of_lines_min_at_least' ? 'target.ruleShareMin' : 'target.ruleShare',
      { threshold, share: formatShare(ev.requiredShare) })
  }
  return t('target.ruleIspeed', { threshold })
}

export function statusBadge (cls, { horizon = false } = {}) {
  return h('span', { class: ['badge', `st-${cls}`, horizon && 'horizon'], text: t(`status.${cls}`) })
}

/** A target's figure, badge and footnote marker, as shown in a table cell. */
export function targetCell (ev, footnotes) {
  const cls = attainmentClass(ev)
  const mark = footnotes.mark(ev)
  const unit = isShareStatistic(ev.statistic) ? 'share' : 'mbps'
  return h('div', { class: ['target', `st-${cls}`, ev.horizon && 'horizon'], title: whyText(ev) },
    h('div', { class: 'target-head' },
      h('span', { class: 'doc', text: `${ev.document} (${ev.year})` }),
      h('sup', {}, h('a', { href: `#fn-${mark}`, class: 'fn', text: `[${mark}]` }))),
    h('div', { class: 'target-rule', text: targetRule(ev) }),
    h('div', { class: 'target-figure' }, cellView(ev.figure, unit), ' ',
      ev.horizon ? h('span', { class: 'badge st-na horizon', text: t('status.horizon', { year: ev.year }) }) : statusBadge(cls)),
    (ev.leftOut?.agents ?? 0) > 0 ? h('div', { class: 'target-left-out', text: leftOutText(ev) }) : null)
}

/** True when a target's scope leaves out every line of the row: nothing to judge, only a count. */
export function onlyLeftOut (ev) {
  return (ev.agents ?? 0) === 0 && (ev.leftOut?.agents ?? 0) > 0
}

/**
 * The lines a target's scope leaves out, and why, in the page's language: "không tính 2 đường
 * truyền ngoài đối tượng: 1 điểm truy cập công cộng; 1 đơn vị ở xã".
 */
export function leftOutText (ev) {
  const all = ev.leftOut?.reasons ?? []
  // Lines limited by the measuring machine's card are in scope but cannot be judged (docs/methodology.md §11).
  const link = all.filter((r) => r.reason === 'local_link').reduce((n, r) => n + r.agents, 0)
  const scope = all.filter((r) => r.reason !== 'local_link')
  const reasons = scope.map((r) => r.reason === 'unit_type'
    ? t('scope.unitType', { n: formatNumber(r.agents, 0), type: r.value === 'unknown' ? t('common.unknown') : r.value })
    : r.reason === 'high_tech_zone'
      ? t('scope.noZone', { n: formatNumber(r.agents, 0) })
      : t('scope.category', { n: formatNumber(r.agents, 0), category: t(`scope.cat.${r.value}`) }))
  const out = []
  if (scope.length > 0) out.push(t('scope.leftOut', { n: formatNumber((ev.leftOut?.agents ?? 0) - link, 0), who: t(`scope.population.${populationKey(ev)}`), reasons: reasons.join('; ') }))
  if (link > 0) out.push(t('scope.localLink', { n: formatNumber(link, 0) }))
  return out.join(' ')
}

function populationKey (ev) {
  const cats = ev.appliesTo?.categories ?? []
  if (cats.includes('household')) return 'household'
  if (ev.appliesTo?.inHighTechZone === true) return 'highTechZone'
  if (cats.length === 1 && cats[0] === 'organisation') return (ev.appliesTo?.unitTypes ?? []).length > 0 ? 'urbanOrganisation' : 'organisation'
  return 'all'
}

/**
 * Why this target applies, in the page's language: built from the evaluation's fields, since
 * the report's own `why` sentence is English.
 */
export function whyText (ev) {
  const scope = ev.scope === 'provincial'
    ? t('why.provincial', { code: ev.region?.code ?? '?' })
    : ev.scope === 'national' ? t('why.national') : t('why.other')
  const base = t('why.text', { scope, year: ev.year ?? '–', agents: ev.agents ?? '–', agencies: ev.agencies ?? '–' })
  return ev.yearRule === 'latest_before' ? `${base} ${t('why.latestBefore')}` : base
}

/** Numbered notes saying which target each figure was held against, and why. */
export function createFootnotes () {
  const byId = new Map()
  return {
    mark (ev) {
      const key = `${ev.targetId}`
      if (!byId.has(key)) byId.set(key, { n: byId.size + 1, ev })
      return byId.get(key).n
    },
    view () {
      if (byId.size === 0) return null
      return h('section', { class: 'footnotes' },
        h('h3', { text: t('target.footnotesTitle') }),
        h('ol', {}, [...byId.values()].map(({ n, ev }) => h('li', { id: `fn-${n}`, value: n },
          h('strong', { text: `${ev.document}` }),
          ev.issuer ? ` — ${ev.issuer}` : '',
          ev.date ? ` (${ev.date})` : '',
          ev.section ? `, ${t('target.section')} ${ev.section}` : '',
          '. ', targetRule(ev), '. ',
          getLang() === 'en' && ev.why ? ev.why : whyText(ev),
          ev.horizon ? ` ${t('target.horizonNote')}` : '',
          ev.status === 'unconfirmed' ? ` ${t('target.unconfirmed')}` : ''))))
    }
  }
}

export function legend () {
  return h('div', { class: 'legend', role: 'note' },
    h('span', { class: 'legend-title', text: t('legend.title') }),
    ['met', 'close', 'far', 'na'].map((cls) => h('span', { class: 'legend-item' }, statusBadge(cls), ' ', t(`legend.${cls}`))))
}

/** Explicit states for a report that could not be shown. */
export function problem (result) {
  if (result.kind === 'unavailable') {
    return h('div', { class: 'notice unavailable', role: 'status', dataset: { state: 'unavailable' } },
      h('strong', { text: t('notice.unavailableTitle') }), ' ',
      t('notice.unavailable', { url: result.url.split('?')[0], status: result.status }))
  }
  return h('div', { class: 'notice error', role: 'alert', dataset: { state: 'error' } },
    h('strong', { text: t('notice.errorTitle') }), ' ',
    `${result.status === 0 ? '' : `HTTP ${result.status} `}${result.code ?? ''} ${result.message ?? ''}`)
}

export function exportLinks (path, params) {
  const link = (format) => {
    const q = new URLSearchParams({ ...params, format })
    return h('a', { class: 'export', href: `${path}?${q}`, download: '', text: t(`export.${format}`) })
  }
  return h('p', { class: 'exports' }, t('export.label'), ' ', link('csv'), ' · ', link('xlsx'))
}

export function coverageText (c) {
  if (c === null || c === undefined) return ''
  return t('coverage.line', {
    reporting: formatNumber(c.agentsReporting, 0),
    enrolled: formatNumber(c.agentsEnrolled, 0),
    valid: formatNumber(c.validTests, 0),
    samples: formatNumber(c.representativeSamples, 0)
  })
}
