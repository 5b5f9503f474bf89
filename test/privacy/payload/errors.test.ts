/** The error catalogue is complete and consistent: every class is named as it is exported. */
import { describe, expect, it } from 'vitest'
import * as errors from '../../../src/privacy/payload/errors.js'
import * as api from '../../../src/privacy/payload/index.js'

const samples: Record<string, Error> = {
  PayloadParameterError: new errors.PayloadParameterError('chunkSize', 'too small'),
  PayloadSizeError: new errors.PayloadSizeError(10, 9),
  ChunkAuthError: new errors.ChunkAuthError(3),
  ChunkIdMismatchError: new errors.ChunkIdMismatchError(3),
  ChunkOrderError: new errors.ChunkOrderError(2, 5, 4),
  ChunkSizeError: new errors.ChunkSizeError(1, 32, 31),
  TruncatedPayloadError: new errors.TruncatedPayloadError(4, 3),
  ManifestDecodeError: new errors.ManifestDecodeError('x'),
  ManifestInvalidError: new errors.ManifestInvalidError('chunks', 'x'),
  ManifestSignatureError: new errors.ManifestSignatureError(),
  KeyWrapError: new errors.KeyWrapError('x'),
  KeyUnwrapError: new errors.KeyUnwrapError(),
  KeyFileError: new errors.KeyFileError('/k', 'x'),
  HashWorkerError: new errors.HashWorkerError('x'),
  HpkeWorkerError: new errors.HpkeWorkerError('x')
}

describe('payload errors', () => {
  it('has a sample for every exported class, each named as exported and re-exported by index', () => {
    expect(Object.keys(errors).sort()).toEqual(Object.keys(samples).sort())
    for (const [name, cls] of Object.entries(errors)) {
      const err = samples[name] as Error
      expect(err).toBeInstanceOf(cls)
      expect(err).toBeInstanceOf(Error)
      expect(err.name).toBe(name)
      expect(cls.name).toBe(name)
      expect((api as Record<string, unknown>)[name]).toBe(cls)
      expect(err.message.length).toBeGreaterThan(0)
    }
  })

  it('explains chunk order errors', () => {
    expect(new errors.ChunkOrderError(2, 1, 4).message).toMatch(/duplicated/)
    expect(new errors.ChunkOrderError(2, 3, 4).message).toMatch(/out of order/)
    expect(new errors.ChunkOrderError(4, 4, 4).message).toMatch(/beyond the last/)
  })
})
