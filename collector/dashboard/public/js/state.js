/** The page and its parameters live in the URL hash, so every view can be bookmarked and printed. */
export const PAGES = ['overview', 'areas', 'charts', 'ipv6', 'health', 'agency']

const PROVINCE_KEY = 'tocdo.province'

function remembered () {
  try { return JSON.parse(window.localStorage.getItem(PROVINCE_KEY) ?? 'null') } catch { return null }
}

/** decodeURIComponent that never throws: a malformed % escape in a pasted link is kept as typed. */
function decodeSafely (text) {
  try { return decodeURIComponent(text) } catch { return text }
}

export function readState (hash, context) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?')
  const [page, ...rest] = path.split('/')
  const q = new URLSearchParams(query)
  // The geography versions are the server's (context.json's area levels), never written here.
  const known = context?.areaLevels ?? {}
  const current = Object.keys(known).find((v) => known[v].legacy === false)
  const fallback = remembered() ?? context?.defaultProvince ?? { version: current, code: context?.provinces?.current?.[0]?.code ?? '51' }
  const version = Object.hasOwn(known, q.get('v') ?? '') ? q.get('v') : fallback.version
  const province = /^[0-9]{2}$/.test(q.get('p') ?? '') ? q.get('p') : (version === fallback.version ? fallback.code : (context?.provinces?.current?.[0]?.code ?? '51'))
  const state = {
    page: PAGES.includes(page) ? page : 'overview',
    arg: rest.length > 0 ? decodeSafely(rest.join('/')) : null,
    version,
    province,
    period: /^(rolling12|all|\d{4}-\d{2})$/.test(q.get('period') ?? '') ? q.get('period') : 'rolling12',
    split: ['connection_class', 'isp', 'time_band'].includes(q.get('split')) ? q.get('split') : null,
    showEmpty: q.get('empty') === '1'
  }
  if (state.page === 'agency' && state.arg === null) state.page = 'health'
  try { window.localStorage.setItem(PROVINCE_KEY, JSON.stringify({ version: state.version, code: state.province })) } catch { /* not persisted */ }
  return state
}

export function writeState (s) {
  const q = new URLSearchParams({ v: s.version, p: s.province, period: s.period })
  if (s.split) q.set('split', s.split)
  if (s.showEmpty) q.set('empty', '1')
  const path = s.page === 'agency' ? `agency/${encodeURIComponent(s.arg)}` : s.page
  return `#/${path}?${q}`
}
