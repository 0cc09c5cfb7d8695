import { fnv1a32 } from '../../shared/ids.js'
import type { Schedule } from '../../shared/schedule.js'
import { hhmmToS } from '../../shared/vn-time.js'

/**
 * Where an agent's full tests fall in a local day (methodology.md §13). A grid of
 * `fullTestsPerDay` slots with a per-agent phase from a hash of the agent id, so a fleet
 * spreads evenly instead of meeting on cron minutes; then, if the grid leaves an office-hours
 * window or the evening window empty, one slot that is not the only one in another window
 * moves into it, at a hash-chosen position. Slot times here are nominal; the random spread
 * U[0, spreadS] is drawn each cycle by the scheduler and is allowed for (a slot sits at least
 * spreadS before its window ends).
 */
export const SPREAD_S = 300
export const MIN_SPACING_S = 36 * 60
const DAY_S = 86_400

export interface PlannedSlot {
  /** Seconds after local midnight. */
  atS: number
  /** Names of the required windows this slot falls in ('office0', 'office1', 'evening'). */
  windows: string[]
  /** First slot of the day in an office window: kept when the data budget forces a cut. */
  office: boolean
}

interface Window { name: string, fromS: number, toS: number }

/** The stable per-agent phase within one grid period, seconds. */
export function agentPhaseS (agentId: string, periodS: number): number {
  return fnv1a32(agentId) % Math.floor(periodS)
}

function windowsOf (schedule: Schedule, spreadS: number): Window[] {
  const ws = schedule.officeHours.map((w, i) => ({ name: `office${i}`, fromS: hhmmToS(w.start), toS: hhmmToS(w.end) - spreadS }))
  ws.push({ name: 'evening', fromS: hhmmToS(schedule.eveningWindow.start), toS: hhmmToS(schedule.eveningWindow.end) - spreadS })
  return ws.filter((w) => w.toS > w.fromS)
}

const inside = (s: number, w: Window): boolean => s >= w.fromS && s <= w.toS
const gapTo = (s: number, w: Window): number => s < w.fromS ? w.fromS - s : s > w.toS ? s - w.toS : 0

/** Best position in `w` for a new slot: the hash position if it keeps the spacing, else the point farthest from the others. */
function placeIn (w: Window, preferred: number, others: number[]): number {
  const clearance = (p: number): number => others.reduce((m, o) => Math.min(m, Math.abs(o - p)), Infinity)
  if (clearance(preferred) >= MIN_SPACING_S) return preferred
  let best = preferred
  let bestC = clearance(preferred)
  for (let p = w.fromS; p <= w.toS; p += 60) {
    const c = clearance(p)
    if (c > bestC) { best = p; bestC = c }
  }
  return best
}

export function planDay (agentId: string, schedule: Schedule, spreadS = SPREAD_S): PlannedSlot[] {
  const n = schedule.fullTestsPerDay
  const period = DAY_S / n
  const phase = agentPhaseS(agentId, period)
  const slots = Array.from({ length: n }, (_, k) => Math.round(phase + k * period))
  const windows = windowsOf(schedule, spreadS)
  for (const w of windows) {
    if (slots.some((s) => inside(s, w))) continue
    // Movable: a slot that is not the only one in some other required window.
    const movable = slots
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => !windows.some((o) => o !== w && inside(s, o) && slots.filter((t) => inside(t, o)).length === 1))
      .sort((a, b) => gapTo(a.s, w) - gapTo(b.s, w))
    const pick = movable[0]
    const len = w.toS - w.fromS
    const preferred = w.fromS + (fnv1a32(`${agentId}:${w.name}`) % (len + 1))
    if (pick === undefined) { slots.push(placeIn(w, preferred, slots)); continue }
    const others = slots.filter((_, i) => i !== pick.i)
    slots[pick.i] = placeIn(w, preferred, others)
  }
  slots.sort((a, b) => a - b)
  const seenOffice = new Set<string>()
  return slots.map((atS) => {
    const ws = windows.filter((w) => inside(atS, w)).map((w) => w.name)
    const officeName = ws.find((x) => x.startsWith('office'))
    const office = officeName !== undefined && !seenOffice.has(officeName)
    if (officeName !== undefined) seenOffice.add(officeName)
    return { atS, windows: ws, office }
  })
}
