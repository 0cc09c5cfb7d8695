import vi from './i18n/vi.js'
import en from './i18n/en.js'

/** Vietnamese by default; the English switch is remembered in this browser only. */
const DICTS = { vi, en }
const LOCALES = { vi: 'vi-VN', en: 'en-GB' }
const STORAGE_KEY = 'tocdo.lang'
// Dates read in the reports' zone, which the server gives in context.json (setTimeZone).
let timeZone

function stored () {
  try { return window.localStorage.getItem(STORAGE_KEY) } catch { return null }
}

let lang = DICTS[stored()] !== undefined ? stored() : 'vi'

export function setTimeZone (zone) { timeZone = zone }

export function getLang () { return lang }
export function otherLang () { return lang === 'vi' ? 'en' : 'vi' }

export function setLang (next) {
  if (DICTS[next] === undefined) return
  lang = next
  try { window.localStorage.setItem(STORAGE_KEY, next) } catch { /* private mode: the switch lasts for this page only */ }
  document.documentElement.lang = next
}

/** Adds entries to a dictionary: the figures' names arrive with the figure registry (figures.js). */
export function addMessages (to, entries) {
  Object.assign(DICTS[to], entries)
}

/** The text for `key`, with {name} placeholders filled; the key itself if no dictionary has it. */
export function t (key, vars = {}) {
  const template = DICTS[lang][key] ?? DICTS.vi[key] ?? key
  return template.replace(/\{(\w+)\}/g, (_, name) => vars[name] === undefined ? `{${name}}` : String(vars[name]))
}

export function locale () { return LOCALES[lang] }

export function formatNumber (value, maxDigits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–'
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: maxDigits }).format(value)
}

/** A share 0..1 as a percentage. */
export function formatShare (share, maxDigits = 0) {
  if (share === null || share === undefined) return '–'
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: maxDigits }).format(share)
}

export function formatDateTime (iso) {
  if (iso === null || iso === undefined) return '–'
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(new Date(iso))
}

/** 'YYYY-MM' as a month name in the current language. */
export function formatMonth (month) {
  const [y, m] = month.split('-').map(Number)
  return new Intl.DateTimeFormat(locale(), { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, 15)))
}

/** How long ago, in words, for agent health ("5 minutes ago"). */
export function formatAgo (iso, now = Date.now()) {
  if (iso === null || iso === undefined) return t('health.never')
  const s = Math.round((new Date(iso).getTime() - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' })
  const abs = Math.abs(s)
  if (abs < 60) return rtf.format(s, 'second')
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute')
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour')
  return rtf.format(Math.round(s / 86400), 'day')
}
