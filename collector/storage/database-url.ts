/**
 * PostgreSQL connection URLs as TOCDO_DATABASE_URL gives them: postgres://user:password@host:port/db,
 * or with the host left out for a Unix socket (postgres://user@/db?host=/run/postgresql), as
 * libpq and `pg` accept.
 */

/** The URL as it may be shown (a log line, an error, a config problem): the password replaced by ***. */
export function redactDatabaseUrl (url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/i, '$1***')
}

/** Why `url` cannot be used as TOCDO_DATABASE_URL, or null; '' is fine (the embedded SQLite store). Never holds the password. */
export function databaseUrlProblem (url: string): string | null {
  if (url === '') return null
  const example = 'give postgres://user:password@host:5432/database (or leave it empty for the embedded SQLite store)'
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase()
  if (scheme === undefined) return `not a URL; ${example}`
  if (scheme !== 'postgres' && scheme !== 'postgresql') return `the scheme is "${scheme}:"; ${example}`
  let u: URL
  try {
    // A socket URL has no host; WHATWG URL parsing needs one, so a placeholder stands in.
    u = new URL(url.replace(/^(postgres(?:ql)?:\/\/(?:[^/?#@]*@)?)(?=[/?#]|$)/i, '$1localhost'))
  } catch {
    return `not a URL; ${example}`
  }
  if (u.pathname.replace(/^\//, '') === '') return `${redactDatabaseUrl(url)} names no database; add it as the path, e.g. postgres://user:password@host:5432/tocdo`
  return null
}
