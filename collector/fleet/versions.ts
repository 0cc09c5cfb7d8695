/**
 * Agent version comparison for the health views: an agent is outdated when its version is
 * older than the newest one this collector knows of — its own (TOCDO_VERSION) or the
 * packages it serves. Versions are x.y.z with an optional -pre suffix (older than x.y.z).
 */
function parts (v: string): { nums: number[], pre: boolean } | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+.*)?$/.exec(v.trim())
  if (m === null) return null
  return { nums: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] !== undefined }
}

/** Negative when a < b, 0 when equal, positive when a > b; null when either is not x.y.z. */
export function compareVersions (a: string, b: string): number | null {
  const x = parts(a)
  const y = parts(b)
  if (x === null || y === null) return null
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] as number) - (y.nums[i] as number)
    if (d !== 0) return d
  }
  return (x.pre ? 0 : 1) - (y.pre ? 0 : 1)
}

export function newestVersion (versions: ReadonlyArray<string | null | undefined>): string | null {
  let best: string | null = null
  for (const v of versions) {
    if (v == null || parts(v) === null) continue
    if (best === null || (compareVersions(v, best) ?? 0) > 0) best = v
  }
  return best
}

/** null when the agent's version is unknown or not comparable. */
export function isOutdated (agentVersion: string | null, newest: string | null): boolean | null {
  if (agentVersion === null || newest === null) return null
  const c = compareVersions(agentVersion, newest)
  return c === null ? null : c < 0
}
