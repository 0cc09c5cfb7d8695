import { describe, expect, it } from 'vitest'
import { compareVersions, isOutdated, newestVersion } from '../../collector/fleet/versions.js'

describe('agent versions', () => {
  it('compareVersions() orders x.y.z numerically, a pre-release before its release', () => {
    expect(compareVersions('0.10.0', '0.9.9')).toBeGreaterThan(0)
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0)
    expect(compareVersions('1.2.3-rc.1', '1.2.3')).toBeLessThan(0)
    expect(compareVersions('dev', '1.0.0')).toBeNull()
  })
  it('newestVersion() and isOutdated() ignore what is not a version', () => {
    expect(newestVersion(['0.1.0', null, '0.2.0', 'garbage'])).toBe('0.2.0')
    expect(isOutdated('0.1.0', '0.2.0')).toBe(true)
    expect(isOutdated('0.2.0', '0.2.0')).toBe(false)
    expect(isOutdated(null, '0.2.0')).toBeNull()
    expect(isOutdated('weird', '0.2.0')).toBeNull()
  })
})
