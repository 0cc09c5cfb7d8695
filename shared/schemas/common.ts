import { Type, type TSchema } from '@sinclair/typebox'

/** A value that may be missing: missing is null, never -1 or 0 (fleet-protocol.md §4). */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

/** Plausibility bound for any throughput figure: 100 Gbit/s. */
export const MAX_PLAUSIBLE_MBPS = 100_000

export const Mbps = Type.Number({ minimum: 0, maximum: MAX_PLAUSIBLE_MBPS, description: 'Megabits per second (10^6 bit/s)' })
export const Ms = Type.Number({ minimum: 0, maximum: 600_000, description: 'Milliseconds' })

export const IsoDateTime = Type.String({ format: 'date-time', description: 'RFC 3339 timestamp, UTC' })

/** ULID: 26 Crockford base32 characters, time-ordered. */
export const Ulid = Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'ULID (Crockford base32)' })

export const ConnectionClass = Type.Union([
  Type.Literal('fixed'),
  Type.Literal('4g'),
  Type.Literal('5g'),
  Type.Literal('leased_line')
], { description: 'Access technology of the line under test' })
