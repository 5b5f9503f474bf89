/**
 * Errors of the encrypted payload. Tests and callers assert on `err.name`.
 * Messages name chunk indexes, sizes and fields only: never key material and
 * never plaintext.
 */

/** A caller-supplied parameter is out of range (chunk size, file id, key length…). */
export class PayloadParameterError extends Error {
  static override name = 'PayloadParameterError'
  readonly field: string

  constructor (field: string, problem: string) {
    super(`${field}: ${problem}`)
    this.name = 'PayloadParameterError'
    this.field = field
  }
}

/** The plaintext source yielded more or fewer bytes than the declared `totalSize`. */
export class PayloadSizeError extends Error {
  static override name = 'PayloadSizeError'
  readonly expected: number
  readonly actual: number

  constructor (expected: number, actual: number, more = false) {
    super(`plaintext source yielded ${more ? 'more than ' : ''}${actual} bytes, declared ${expected}`)
    this.name = 'PayloadSizeError'
    this.expected = expected
    this.actual = actual
  }
}

/** A chunk failed AEAD authentication: altered, from another file, version or position. */
export class ChunkAuthError extends Error {
  static override name = 'ChunkAuthError'
  readonly index: number

  constructor (index: number) {
    super(`chunk ${index} failed authentication`)
    this.name = 'ChunkAuthError'
    this.index = index
  }
}

/** A chunk's bytes do not hash to its id, or its id is not the one the manifest lists. */
export class ChunkIdMismatchError extends Error {
  static override name = 'ChunkIdMismatchError'
  readonly index: number

  constructor (index: number, what = 'does not match its id') {
    super(`chunk ${index} ${what}`)
    this.name = 'ChunkIdMismatchError'
    this.index = index
  }
}

/** A chunk arrived out of sequence: reordered, duplicated, or beyond the last chunk. */
export class ChunkOrderError extends Error {
  static override name = 'ChunkOrderError'
  readonly expected: number
  readonly actual: number

  constructor (expected: number, actual: number, total: number) {
    const why = actual >= total ? `beyond the last chunk (${total} chunks)` : actual < expected ? 'duplicated or replayed' : 'out of order'
    super(`expected chunk ${expected}, got chunk ${actual}: ${why}`)
    this.name = 'ChunkOrderError'
    this.expected = expected
    this.actual = actual
  }
}

/** A chunk's length is not the one the payload layout implies for its index. */
export class ChunkSizeError extends Error {
  static override name = 'ChunkSizeError'
  readonly index: number

  constructor (index: number, expected: number, actual: number) {
    super(`chunk ${index} is ${actual} bytes, expected ${expected}`)
    this.name = 'ChunkSizeError'
    this.index = index
  }
}

/** The chunk sequence ended before its last chunk. */
export class TruncatedPayloadError extends Error {
  static override name = 'TruncatedPayloadError'
  readonly expected: number
  readonly actual: number

  constructor (expected: number, actual: number) {
    super(`payload truncated: ${actual} of ${expected} chunks`)
    this.name = 'TruncatedPayloadError'
    this.expected = expected
    this.actual = actual
  }
}

/** Manifest bytes are not the one deterministic CBOR encoding of a manifest. */
export class ManifestDecodeError extends Error {
  static override name = 'ManifestDecodeError'

  constructor (problem: string) {
    super(`manifest: ${problem}`)
    this.name = 'ManifestDecodeError'
  }
}

/** A manifest field is missing, out of range or inconsistent with the others. */
export class ManifestInvalidError extends Error {
  static override name = 'ManifestInvalidError'
  readonly field: string

  constructor (field: string, problem: string) {
    super(`manifest ${field}: ${problem}`)
    this.name = 'ManifestInvalidError'
    this.field = field
  }
}

/** The manifest signature does not verify, or the signer is not the expected master. */
export class ManifestSignatureError extends Error {
  static override name = 'ManifestSignatureError'

  constructor (problem = 'signature does not verify') {
    super(`manifest: ${problem}`)
    this.name = 'ManifestSignatureError'
  }
}

/** A data key could not be wrapped (bad recipient public key). */
export class KeyWrapError extends Error {
  static override name = 'KeyWrapError'

  constructor (problem: string) {
    super(`key wrap: ${problem}`)
    this.name = 'KeyWrapError'
  }
}

/** A wrapped key does not open: another recipient, another file or version, or altered. */
export class KeyUnwrapError extends Error {
  static override name = 'KeyUnwrapError'

  constructor (problem = 'wrapped key does not open with this key for this file') {
    super(`key unwrap: ${problem}`)
    this.name = 'KeyUnwrapError'
  }
}

/** A key file is missing, too open (not 0600), already exists, or not a key of the right type. */
export class KeyFileError extends Error {
  static override name = 'KeyFileError'
  readonly file: string

  constructor (file: string, problem: string) {
    super(`${file}: ${problem}`)
    this.name = 'KeyFileError'
    this.file = file
  }
}

/** The worker thread hashing chunk ids failed or was stopped; the sealing it served fails. */
export class HashWorkerError extends Error {
  static override name = 'HashWorkerError'

  constructor (problem: string) {
    super(`hash worker: ${problem}`)
    this.name = 'HashWorkerError'
  }
}

/** The worker thread running HPKE failed or was stopped; key wrapping falls back to the calling thread. */
export class HpkeWorkerError extends Error {
  static override name = 'HpkeWorkerError'

  constructor (problem: string) {
    super(`HPKE worker: ${problem}`)
    this.name = 'HpkeWorkerError'
  }
}
