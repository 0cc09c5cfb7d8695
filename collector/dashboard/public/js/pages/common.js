import { h } from '../dom.js'
import { t, formatMonth } from '../i18n.js'

/** Page title with the area it covers, saying plainly when it is a legacy analysis region. */
export function pageHeading (ctx, key) {
  const { state, provinceName } = ctx
  const area = state.version === '2025-03'
    ? t('area.legacyProvince', { name: provinceName, code: state.province })
    : t('area.currentProvince', { name: provinceName, code: state.province })
  return h('header', { class: 'page-head' },
    h('h1', { id: 'page-title', text: t(`page.${key}`) }),
    h('p', { class: 'area-line', text: area }))
}

export function periodLine (period) {
  if (period === null || period === undefined) return null
  let text
  if (period.kind === 'rolling12') text = t('period.rollingRange', { from: formatMonth(period.from), to: formatMonth(period.to) })
  else if (period.kind === 'all') text = t('period.all')
  else if (period.kind === 'month') text = t('period.month', { month: formatMonth(period.from ?? period.id) })
  else text = period.id ?? ''
  return h('p', { class: 'period-line', text: `${t('controls.period')}: ${text}` })
}

export function areaLevel (state) {
  return state.version === '2025-03' ? 'legacy_district' : 'commune'
}

export function provinceLevel (state) {
  return state.version === '2025-03' ? 'legacy_province' : 'province'
}

export function rulesNote (rules) {
  if (rules === null || rules === undefined) return null
  return h('p', { class: 'rules-note', text: t('rules.note', { minSamples: rules.minRepresentativeSamples, minAgents: rules.minAgents }) })
}
