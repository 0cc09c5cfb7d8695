/**
 * Reads the collector's JSON reports. A 404 from a route the collector does not have yet is
 * reported as `unavailable`, so the page can say so plainly instead of showing anything made up.
 */
export async function getJson (path, params = {}) {
  const url = withQuery(path, params)
  let res
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } })
  } catch (err) {
    return { ok: false, kind: 'network', status: 0, url, message: String(err) }
  }
  let body = null
  try { body = await res.json() } catch { body = null }
  if (res.ok) return { ok: true, status: res.status, url, data: body }
  // Fastify's own not-found reply names the route; the collector's area errors carry a TOCDO code.
  const routeMissing = res.status === 404 && (body === null || typeof body.code !== 'string' || !body.code.startsWith('TOCDO_'))
  return {
    ok: false,
    kind: routeMissing ? 'unavailable' : 'error',
    status: res.status,
    url,
    code: body?.code ?? null,
    message: body?.message ?? res.statusText
  }
}

export function withQuery (path, params = {}) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s === '' ? path : `${path}?${s}`
}
