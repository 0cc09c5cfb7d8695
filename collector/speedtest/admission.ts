/**
 * Admission control for speed tests. A test is several streams and probes that share a test
 * id header; it holds one slot from its first request until it has been idle for
 * `idleMs`. When all slots are held the server answers 503 with Retry-After, so agents move
 * to the next server or back off (methodology.md §3).
 */
export interface Admission {
  /** Returns a release function, or null when the server is full. */
  admit: (testId: string | undefined) => (() => void) | null
  readonly active: number
  close: () => void
}

export function createAdmission ({ maxConcurrent, idleMs = 3000, now = Date.now }: {
  maxConcurrent: number
  idleMs?: number
  now?: () => number
}): Admission {
  // testId -> open request count and the time the last one ended
  const tests = new Map<string, { open: number, idleSince: number }>()
  let anon = 0

  function sweep (): void {
    const t = now()
    for (const [id, s] of tests) if (s.open === 0 && t - s.idleSince >= idleMs) tests.delete(id)
  }

  return {
    admit (testId) {
      sweep()
      const id = testId ?? `anon-${++anon}`
      let state = tests.get(id)
      if (state === undefined) {
        if (tests.size >= maxConcurrent) return null
        state = { open: 0, idleSince: now() }
        tests.set(id, state)
      }
      state.open++
      const s = state
      let released = false
      return () => {
        if (released) return
        released = true
        s.open--
        if (s.open === 0) {
          s.idleSince = now()
          // Requests without a test id are whole tests on their own: free the slot at once.
          if (testId === undefined) tests.delete(id)
        }
      }
    },
    get active () { sweep(); return tests.size },
    close () { tests.clear() }
  }
}
