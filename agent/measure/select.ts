import { median } from '../../shared/stats.js'
import type { ProbeClock } from './context.js'
import { HttpPinger } from './http-pinger.js'

/**
 * Server choice (methodology.md §4 phase 1): a few HTTP pings to each candidate on a
 * pre-warmed connection, the first discarded; the lowest median wins and the ranked list
 * is kept for fail-over.
 */
export interface RankedServer { url: string, medianMs: number | null, error: string | null }

export async function rankServers ({ servers, clock, pings = 3, family, signal }: {
  servers: readonly string[]
  clock: ProbeClock
  pings?: number
  family?: 4 | 6
  signal?: AbortSignal
}): Promise<RankedServer[]> {
  const ranked = await Promise.all(servers.map(async (url): Promise<RankedServer> => {
    const pinger = new HttpPinger(new URL(url).origin, { ...(family === undefined ? {} : { family }), timeoutMs: 5000 })
    try {
      // The first ping opens the connection and is discarded.
      await pinger.ping(clock, signal)
      const rtts: number[] = []
      for (let i = 0; i < pings; i++) rtts.push(await pinger.ping(clock, signal))
      return { url, medianMs: Math.round((median(rtts) as number) * 1000) / 1000, error: null }
    } catch (err) {
      return { url, medianMs: null, error: err instanceof Error ? err.message : String(err) }
    } finally {
      pinger.close()
    }
  }))
  // Stable sort: equal medians keep the configured order; unreachable servers go last.
  return ranked.map((r, i) => ({ r, i })).sort((a, b) => {
    const x = a.r.medianMs ?? Infinity
    const y = b.r.medianMs ?? Infinity
    return x === y ? a.i - b.i : x - y
  }).map(({ r }) => r)
}

/**
 * Back-off after every server answered 503: 60, 120, 240, 480, 960 s, each with ±5 %
 * normal jitter (the ndt7 spec), never below 0 and never above the server's Retry-After
 * being ignored: the larger of the two wins.
 */
export function busyBackoffMs (attempt: number, retryAfterS: number | null = null, gaussian: () => number = standardNormal): number {
  const base = 60_000 * 2 ** Math.min(4, Math.max(0, attempt))
  const jittered = base * (1 + 0.05 * gaussian())
  return Math.max(0, Math.round(Math.max(jittered, (retryAfterS ?? 0) * 1000)))
}

function standardNormal (): number {
  // Box–Muller; 1 − random() avoids log(0).
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random())
}
