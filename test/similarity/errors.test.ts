import { describe, expect, it } from 'vitest'
import * as similarity from '../../src/similarity/index.js'

describe('error catalogue', () => {
  const classes = Object.entries(similarity).filter(([name]) => name.endsWith('Error')) as Array<[string, new (...args: never[]) => Error]>

  it('exports each error as a named class whose instances carry the same name', () => {
    expect(classes.map(([name]) => name).sort()).toEqual([
      'FeaturesTooLargeError', 'IncomparableFeaturesError', 'InvalidFeaturesError', 'InvalidVolumeError',
      'SimilarityOptionsError', 'UnsupportedFeaturesVersionError'
    ])
    for (const [name, Cls] of classes) {
      expect(Cls.name).toBe(name)
      const err = new (Cls as unknown as new (a: unknown, b: unknown) => Error)('x', 1)
      expect(err).toBeInstanceOf(Error)
      expect(err.name).toBe(name)
    }
  })
})
