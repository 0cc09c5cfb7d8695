import { h, clear } from './dom.js'
import { t, getLang, otherLang, setLang, setTimeZone, formatDateTime } from './i18n.js'
import { getJson } from './api.js'
import { loadFigures, figuresProblem } from './figures.js'
import { problem } from './components.js'
import { readState, writeState, PAGES } from './state.js'
import { setAreaLevels, isLegacy, geoVersion } from './pages/common.js'
import * as overview from './pages/overview.js'
import * as areas from './pages/areas.js'
import * as charts from './pages/charts.js'
import * as ipv6 from './pages/ipv6.js'
import * as health from './pages/health.js'
import * as agency from './pages/agency.js'

const RENDERERS = { overview, areas, charts, ipv6, health, agency }

let context = null
let charted = []
let renderSeq = 0

async function boot () {
  setLang(getLang())
  const res = await getJson('context.json')
  context = res.ok ? res.data : { departmentName: '', version: '', sample: false, provinces: { legacy: [], current: [] }, defaultProvince: null, timeZone: undefined, months: [], areaLevels: {} }
  setTimeZone(context.timeZone)
  setAreaLevels(context.areaLevels)
  await loadFigures()
  document.getElementById('lang-switch').addEventListener('click', () => { setLang(otherLang()); render() })
  window.addEventListener('hashchange', render)
  // Printed reports carry the data tables that sit folded under each chart on screen.
  window.addEventListener('beforeprint', () => { for (const d of document.querySelectorAll('details')) d.open = true })
  await render()
}

function provinceName (state) {
  const list = isLegacy(state) ? context.provinces.legacy : context.provinces.current
  return list.find((p) => p.code === state.province)?.name ?? state.province
}

function header (state) {
  document.getElementById('department').textContent = context.departmentName !== '' ? context.departmentName : t('site.departmentUnset')
  document.getElementById('site-title').textContent = t('site.title')
  // Generated sample data says so on every page, in a place no page can scroll away from.
  const banner = document.getElementById('sample-banner')
  banner.hidden = context.sample !== true
  banner.textContent = context.sample === true ? t('site.sample') : ''
  document.title = `${t(`page.${state.page}`)} · ${t('site.title')}`
  const langButton = document.getElementById('lang-switch')
  langButton.textContent = t('site.switchTo')
  langButton.setAttribute('lang', otherLang())
  clear(document.getElementById('nav')).append(
    h('ul', {}, PAGES.filter((p) => p !== 'agency').map((p) => h('li', {},
      h('a', { href: writeState({ ...state, page: p, arg: null }), class: state.page === p ? 'active' : null, 'aria-current': state.page === p ? 'page' : null, text: t(`page.${p}`) })))))
}

function controls (state) {
  const el = clear(document.getElementById('controls'))
  if (state.page === 'agency') return
  const option = (version, p) => h('option', { value: `${version}:${p.code}`, selected: state.version === version && state.province === p.code },
    `${p.name} (${p.code})${p.agencies > 0 ? ` — ${t('controls.agencies', { n: p.agencies })}` : ''}`)
  const picker = h('select', { id: 'province-picker', onchange: (e) => { const [version, province] = e.target.value.split(':'); go({ version, province }) } },
    h('optgroup', { label: t('controls.currentProvinces') }, context.provinces.current.map((p) => option(geoVersion(false), p))),
    h('optgroup', { label: t('controls.legacyProvinces') }, context.provinces.legacy.map((p) => option(geoVersion(true), p))))
  const periods = ['rolling12', 'all', ...context.months]
  const period = h('select', { id: 'period-picker', onchange: (e) => go({ period: e.target.value }) },
    periods.map((p) => h('option', { value: p, selected: state.period === p, text: p === 'rolling12' || p === 'all' ? t(`period.${p}`) : p })))
  el.append(
    h('label', {}, t('controls.province'), ' ', picker),
    h('label', {}, t('controls.period'), ' ', period),
    h('span', { class: 'geo-note', text: isLegacy(state) ? t('controls.legacyNote') : t('controls.currentNote') }))
}

function go (update) {
  window.location.hash = writeState({ ...readState(window.location.hash, context), ...update })
}

async function render () {
  const seq = ++renderSeq
  const state = readState(window.location.hash, context)
  for (const c of charted) c.destroy()
  charted = []
  header(state)
  controls(state)
  const view = clear(document.getElementById('view'))
  view.dataset.page = state.page
  view.setAttribute('aria-busy', 'true')
  const ctx = {
    state,
    context,
    provinceName: provinceName(state),
    view,
    addChart: (chart) => charted.push(chart),
    link: (update) => writeState({ ...state, ...update }),
    stale: () => seq !== renderSeq
  }
  try {
    const failed = figuresProblem()
    if (failed !== null) view.append(problem(failed))
    else await RENDERERS[state.page].render(ctx)
  } catch (err) {
    view.append(h('div', { class: 'notice error', role: 'alert', text: `${t('notice.errorTitle')} ${err instanceof Error ? err.message : String(err)}` }))
  }
  if (seq !== renderSeq) return
  view.setAttribute('aria-busy', 'false')
  clear(document.getElementById('footer')).append(
    h('span', { text: t('footer.generated', { at: formatDateTime(new Date().toISOString()) }) }), ' · ',
    h('span', { text: `tocdo ${context.version}` }), ' · ',
    h('span', { text: t('footer.method') }))
}

boot()
