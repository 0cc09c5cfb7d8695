import { Type, type TSchema } from '@sinclair/typebox'

/** A value that may be missing: missing is null, never -1 or 0 (fleet-protocol.md §4). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** Plausibility bound for any throughput figure: 100 Gbit/s. */
export const MAX_PLAUSIBLE_MBPS = 100_000

export const Mbps = Type.Number({ minimum: 0, maximum: MAX_PLAUSIBLE_MBPS, description: 'Megabits per second (10^6 bit/s)' })
export const Ms = Type.Number({ minimum: 0, maximum: 600_000, description: 'Milliseconds' })

export const IsoDateTime = Type.String({ format: 'date-time', maxLength: 40, description: 'RFC 3339 timestamp, UTC; a real calendar date, year 1970–2199' })

/**
 * Plausible ranges for the numbers on the wire (issue 11: `seq: 1e300` was accepted). Each is
 * far beyond any real value and small enough that arithmetic on it stays exact and dates
 * built from it stay valid.
 */
/** A count of things (tests, rows, bytes of a queue): up to 10^12. */
export const Count = Type.Integer({ minimum: 0, maximum: 1e12 })
/** Bytes moved by one test or counted on an interface: up to 10^15 (a petabyte). */
export const ByteCount = Type.Integer({ minimum: 0, maximum: 1e15 })
/** A per-agent sequence number: up to 2^53 − 1, the largest exact integer. */
export const SeqNumber = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
/** Collector clock − agent clock: ±50 years covers a clock reset to 1970 and any real skew. */
export const MAX_CLOCK_OFFSET_MS = 50 * 366 * 86_400_000
export const ClockOffsetMs = Type.Number({ minimum: -MAX_CLOCK_OFFSET_MS, maximum: MAX_CLOCK_OFFSET_MS, description: 'Collector clock − agent clock, ms' })
/** A span of seconds (uptime, age, time since the last clock sync): up to 100 years. */
export const Seconds = Type.Number({ minimum: 0, maximum: 100 * 366 * 86_400 })
/** A percentage that may pass 100 (a process busy on several cores): up to 100 × 4096 cores. */
export const Percent = Type.Number({ minimum: 0, maximum: 409_600 })

/** ULID: 26 Crockford base32 characters, time-ordered. */
export const Ulid = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'ULID (Crockford base32)' })

export const ConnectionClass = Type.Union([
  Type.Literal('fixed'),
  Type.Literal('4g'),
  Type.Literal('5g'),
  Type.Literal('leased_line')
], { description: 'Access technology of the line under test' })
