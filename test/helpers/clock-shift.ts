/**
 * Test-only preload (`node --import tsx --import ./test/helpers/clock-shift.ts …`): shifts
 * the process's wall clock, as a machine whose clock is wrong would see it. Monotonic time
 * (performance.now, process.hrtime) is untouched, exactly like a real wall-clock step.
 *
 * TOCDO_TEST_CLOCK_SHIFT_MS: initial shift in ms (may be negative).
 * TOCDO_TEST_CLOCK_SHIFT_FILE: on SIGUSR2 the shift is re-read from this file (a step mid-run).
 *
 * Nothing in the agent knows about this file: production code reads the wall clock through
 * Date like any program, and this preload only exists in the test harness.
 */
import { readFileSync } from 'node:fs'

const RealDate = Date
let shiftMs = Number(process.env.TOCDO_TEST_CLOCK_SHIFT_MS ?? '0')
const file = process.env.TOCDO_TEST_CLOCK_SHIFT_FILE
if (file !== undefined) {
  process.on('SIGUSR2', () => { shiftMs = Number(readFileSync(file, 'utf8').trim()) })
}

class ShiftedDate extends RealDate {
  constructor (...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + shiftMs)
    else super(...(args as [string | number | Date]))
  }

  static override now (): number { return RealDate.now() + shiftMs }
}

globalThis.Date = ShiftedDate as DateConstructor
