/**
 * Agency local time. The only zone the contract allows is Asia/Ho_Chi_Minh: UTC+7 all year,
 * no daylight saving, so a fixed offset is exact and needs no tz database on the agent.
 */
export const VN_OFFSET_MS = 7 * 3_600_000
export const DAY_MS = 86_400_000

/** UTC epoch ms of local midnight of the local day containing `wallMs`. */
export function localDayStart (wallMs: number): number {
  return Math.floor((wallMs + VN_OFFSET_MS) / DAY_MS) * DAY_MS - VN_OFFSET_MS
}

/** 'HH:MM' → seconds after local midnight. */
export function hhmmToS (hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return (h ?? 0) * 3600 + (m ?? 0) * 60
}

/** 'YYYY-MM' of the local calendar month (the data budget's period). */
export function localMonth (wallMs: number): string {
  return new Date(wallMs + VN_OFFSET_MS).toISOString().slice(0, 7)
}

/** Whole local days left in the month, counting the current one. */
export function localDaysLeftInMonth (wallMs: number): number {
  const d = new Date(wallMs + VN_OFFSET_MS)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  return last - d.getUTCDate() + 1
}

/** 'HH:MM' local of an epoch ms, for logs and the status command. */
export function localHhmm (wallMs: number): string {
  return new Date(wallMs + VN_OFFSET_MS).toISOString().slice(11, 16)
}
