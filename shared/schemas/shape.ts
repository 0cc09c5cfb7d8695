/**
 * Bounds on the shape of parsed JSON that a schema cannot express for free-form parts (unknown
 * properties are kept, fleet-protocol.md §4): nesting depth and properties per object. Walked
 * without recursion, so a 20,000-deep value is refused instead of overflowing the stack later
 * (JSON.stringify, structured clone, a logger).
 */
export interface ShapeLimits {
  /** Deepest nesting of objects and arrays; the value itself is depth 0. */
  maxDepth: number
  /** Most properties of any one object. */
  maxKeys: number
}

/** Sync bodies and every other JSON body: a result record nests 5 deep, a heartbeat 3. */
export const BODY_SHAPE: ShapeLimits = { maxDepth: 64, maxKeys: 1000 }
/** One result record: refused on its own (its ack says why) past these. */
export const RECORD_SHAPE: ShapeLimits = { maxDepth: 32, maxKeys: 200 }

/** The first place the value breaks the limits, as a JSON pointer with the rule; null when within them. */
export function shapeProblem (value: unknown, { maxDepth, maxKeys }: ShapeLimits): { field: string, message: string } | null {
  const stack: Array<{ v: unknown, path: string, depth: number }> = [{ v: value, path: '', depth: 0 }]
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop() as { v: unknown, path: string, depth: number }
    if (typeof v !== 'object' || v === null) continue
    if (depth >= maxDepth) return { field: path === '' ? '/' : path, message: `nested deeper than ${maxDepth} levels` }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object' && v[i] !== null) stack.push({ v: v[i], path: `${path}/${i}`, depth: depth + 1 })
      continue
    }
    const keys = Object.keys(v)
    if (keys.length > maxKeys) return { field: path === '' ? '/' : path, message: `has ${keys.length} properties, more than ${maxKeys}` }
    for (const k of keys) {
      const child = (v as Record<string, unknown>)[k]
      if (typeof child === 'object' && child !== null) stack.push({ v: child, path: `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth: depth + 1 })
    }
  }
  return null
}
