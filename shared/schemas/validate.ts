import { FormatRegistry, type TSchema, type Static } from '@sinclair/typebox'
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { ValueError } from '@sinclair/typebox/errors'

import { isCalendarDateTime } from './calendar.js'

// RFC 3339 date-time, as JSON Schema's `date-time` format means it, on a real calendar day
// (no 2025-02-31, no 24:00) within the plausible years (shared/schemas/calendar.ts).
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isCalendarDateTime)

export interface FieldError {
  /** JSON pointer of the failing field, e.g. "/download/mbps". */
  field: string
  message: string
}

export interface Validator<T extends TSchema> {
  check: (value: unknown) => value is Static<T>
  /** The first few errors, most specific first, each naming its field. */
  errors: (value: unknown, limit?: number) => FieldError[]
}

/**
 * A union (e.g. `Direction | null`) fails as a whole at its own path; the useful message is
 * in the branch that got furthest. Descend into the branches and keep the deepest error, so
 * `download.mbps: "fast"` is reported at /download/mbps, not at /download.
 */
function mostSpecific (e: ValueError): ValueError {
  let best = e
  for (const branch of e.errors ?? []) {
    const first = branch.First()
    if (first === undefined) continue
    const candidate = mostSpecific(first)
    if (candidate.path.length > best.path.length) best = candidate
  }
  return best
}

export function compileValidator<T extends TSchema> (schema: T): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema)
  return {
    check: (value: unknown): value is Static<T> => compiled.Check(value),
    errors: (value: unknown, limit = 5) => {
      const out: FieldError[] = []
      for (const raw of compiled.Errors(value)) {
        const e = mostSpecific(raw)
        // A union reports its own failure first and then each branch; keep the most
        // specific path for each field so the message names the leaf the user must fix.
        if (out.some((o) => o.field === e.path)) continue
        out.push({ field: e.path === '' ? '/' : e.path, message: e.message })
        if (out.length >= limit) break
      }
      return out
    }
  }
}
