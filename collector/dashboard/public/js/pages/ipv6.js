import { h, append } from '../dom.js'
import { t, getLang, formatShare, formatNumber, formatDateTime } from '../i18n.js'
import { getJson } from '../api.js'
import { problem } from '../components.js'
import { pageHeading, areaLevel, isLegacy } from './common.js'

const CHECKS = ['web_aaaa', 'https_v6', 'ns_v6', 'mx_v6', 'dnssec']
const LEVELS = ['ready_plus', 'ready', 'partial', 'none', 'unknown']

export async function render (ctx) {
  const { state, view } = ctx
  append(view, pageHeading(ctx, 'ipv6'))
  const period = /^\d{4}-\d{2}$/.test(state.period) ? { period: state.period } : {}
  // The agency level takes current (2025-07) province codes only; a former province's
  // agencies are picked out by their legacy placement.
  const legacy = isLegacy(state)
  const [areas, agencies] = await Promise.all([
    getJson('/api/v1/reports/ipv6', { level: areaLevel(state), province: state.province, ...period }),
    getJson('/api/v1/reports/ipv6', { level: 'agency', ...(legacy ? {} : { province: state.province }), ...period })
  ])
  if (ctx.stale()) return
  if (!areas.ok) { append(view, problem(areas)); return }
  const r = areas.data
  append(view,
    h('p', { class: 'period-line', text: `${t('controls.period')}: ${r.period?.id ?? ''}` }),
    levelLegend(),
    areaTable(r.areas ?? [], areaLevel(state)),
    h('h2', { text: t('ipv6.agencies') }),
    agencies.ok ? agencyTable((agencies.data.agencies ?? []).filter((a) => !legacy || a.legacyProvinceCode === state.province)) : problem(agencies),
    h('section', { class: 'footnotes' }, h('h3', { text: t('ipv6.definitions') }),
      h('ul', {}, LEVELS.map((l) => h('li', {}, h('strong', { text: t(`ipv6.level.${l}`) }), ': ', t(`ipv6.levelHelp.${l}`))),
        h('li', {}, t('ipv6.coloursHelp')),
        h('li', {}, h('strong', { text: t('ipv6.only') }), ': ', t('ipv6.onlyHelp')))))
}

function levelLegend () {
  return h('div', { class: 'legend' }, h('span', { class: 'legend-title', text: t('ipv6.colours') }),
    ['green', 'yellow', 'red', 'gray'].map((c) => h('span', { class: 'legend-item' }, colourBadge(c), ' ', t(`ipv6.colourHelp.${c}`))))
}

function colourBadge (colour, reason) {
  const c = colour ?? 'none'
  return h('span', { class: ['badge', `v6-${c}`], title: getLang() === 'en' ? (reason ?? null) : null, text: t(`ipv6.colour.${c}`) })
}

function areaTable (rows, level) {
  const withAgencies = rows.filter((r) => r.agencies > 0)
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'ipv6-areas' },
    h('thead', {}, h('tr', {},
      h('th', { text: level === 'legacy_district' ? t('col.legacyDistrict') : t('col.commune') }),
      h('th', { text: t('ipv6.agencyCount') }),
      LEVELS.map((l) => h('th', { text: t(`ipv6.level.${l}`) })),
      h('th', { text: t('ipv6.readyShare') }),
      h('th', { text: t('ipv6.change') }),
      h('th', { text: t('ipv6.only') }),
      h('th', { text: t('col.targets') }))),
    h('tbody', {}, withAgencies.length === 0
      ? h('tr', {}, h('td', { colspan: 11, class: 'empty', text: t('ipv6.noAgencies') }))
      : withAgencies.map((r) => areaRow(r, level)))))
}

/** Agencies whose readiness is known in the period; with none, no share or verdict is shown. */
function knownAgencies (r) {
  return (r.agencies ?? 0) - (r.levels?.unknown?.count ?? 0)
}

function areaRow (r, level) {
  const change = r.trend?.change
  const known = knownAgencies(r)
  return h('tr', {},
    h('th', { scope: 'row' }, r.name, level === 'legacy_district' ? h('span', { class: 'tag', text: t('area.legacyDistrictTag') }) : null),
    h('td', { text: formatNumber(r.agencies, 0) }),
    LEVELS.map((l) => h('td', { text: `${formatNumber(r.levels?.[l]?.count ?? 0, 0)} (${formatShare(r.levels?.[l]?.share ?? 0)})` })),
    h('td', { class: 'strong', text: known === 0 ? t('cell.insufficient') : formatShare(r.readyShare) }),
    h('td', { text: change === null || change === undefined ? t('ipv6.noPrevious') : `${change >= 0 ? '+' : ''}${formatNumber(change * 100, 1)} ${t('ipv6.points')}` }),
    h('td', { class: 'ipv6-only', text: onlyArea(r.ipv6Only, r.agencies) }),
    h('td', {}, (r.targets ?? []).map((tg) => targetView(tg, known))))
}

/**
 * IPv6-only readiness of an area: the share of all its agencies whose line could run IPv6-only
 * today (an agency not measured counts as not ready), with the counts behind it; with no agency
 * measured, "chưa đủ dữ liệu".
 */
function onlyArea (o, agencies) {
  if (o === undefined || o === null || o.measured === 0) return t('cell.insufficient')
  return t('ipv6.onlyCell', { share: formatShare(o.readyShare), ready: formatNumber(o.ready, 0), total: formatNumber(agencies, 0), measured: formatNumber(o.measured, 0) })
}

/** An agency's IPv6-only readiness in words; the agent's reason (English) only on the English page. */
function onlyAgency (o) {
  const key = o === null || o === undefined ? 'unmeasured' : o.ready ? (o.basis ?? 'services') : 'no'
  return h('td', { class: 'ipv6-only', title: getLang() === 'en' ? (o?.reason ?? null) : null, text: t(`ipv6.onlyState.${key}`) })
}

/**
 * A target's share and verdict. Where no agency's readiness is known yet, it says "chưa đủ dữ
 * liệu", as the speed pages do, never a red 0 %.
 */
function targetView (tg, known) {
  const unknown = known === 0 && tg.measuredShare !== null
  const cls = unknown ? 'na' : tg.met === true ? 'met' : tg.met === false ? 'far' : 'na'
  return h('div', { class: ['target', `st-${cls}`], title: getLang() === 'en' ? (tg.note ?? '') : null },
    h('span', { class: 'doc', text: tg.year === null || tg.year === undefined ? tg.document : `${tg.document} (${tg.year})` }), ' ',
    tg.measuredShare === null ? t('ipv6.notMeasured') : unknown ? t('cell.insufficient') : `${formatShare(tg.measuredShare)} / ${formatShare(tg.requiredShare)}`, ' ',
    h('span', { class: ['badge', `st-${cls}`], text: t(`status.${cls}`) }))
}

function agencyTable (rows) {
  if (rows.length === 0) return h('p', { class: 'empty', text: t('ipv6.noAgencies') })
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'ipv6-agencies' },
    h('thead', {}, h('tr', {},
      h('th', { text: t('col.agency') }),
      h('th', { text: t('ipv6.capable') }), h('th', { text: t('ipv6.works') }), h('th', { text: t('ipv6.preferred') }),
      CHECKS.map((c) => h('th', { text: t(`ipv6.check.${c}`) })),
      h('th', { text: t('ipv6.levelCol') }),
      h('th', { text: t('ipv6.only') }))),
    h('tbody', {}, rows.map((a) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `#/agency/${encodeURIComponent(a.agencyId)}`, text: a.agencyName })),
      h('td', { text: tri(a.network?.capable) }),
      h('td', { text: t(`ipv6.worksState.${a.network?.works ?? 'unknown'}`), title: a.network?.results !== undefined ? t('ipv6.windowHelp', { n: a.network.results, from: formatDateTime(a.network.windowFrom), to: formatDateTime(a.network.windowTo) }) : null }),
      h('td', { text: tri(a.network?.preferred) }),
      CHECKS.map((c) => h('td', {}, colourBadge(a.services?.[c]?.colour ?? null, a.services?.[c]?.reason))),
      h('td', { class: 'strong', text: t(`ipv6.level.${a.level}`) }),
      onlyAgency(a.ipv6Only))))))
}

function tri (v) {
  return v === true ? t('common.yes') : v === false ? t('common.no') : t('common.unknown')
}
