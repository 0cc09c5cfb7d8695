import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { ERROR_CODES, TocdoError, isTocdoError } from '../../shared/errors.js'

describe('shared/errors', () => {
  it('docs/errors.md lists every code with its HTTP status, and nothing else', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
    const documented = new Map([...doc.matchAll(/^\| `(TOCDO_ERR_[A-Z0-9_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]))
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(documented.get(code), `${code} in docs/errors.md`).toBe(status)
    }
    expect([...documented.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort())
  })

  it('TocdoError carries code, status, details and cause', () => {
    const cause = new Error('disk')
    const err = new TocdoError('TOCDO_ERR_VALIDATION', 'bad field', { cause, details: { field: 'x' } })
    expect(err.code).toBe('TOCDO_ERR_VALIDATION')
    expect(err.statusCode).toBe(400)
    expect(err.details).toEqual({ field: 'x' })
    expect(err.cause).toBe(cause)
    expect(isTocdoError(err)).toBe(true)
    expect(isTocdoError(new Error('x'))).toBe(false)
    expect(new TocdoError('TOCDO_ERR_NOT_FOUND').message).toBe('Not found')
  })
})
