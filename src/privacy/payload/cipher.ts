/**
 * Sealing and opening one chunk. The construction is the STREAM online AEAD
 * (Hoang, Reyhanitabar, Rogaway, Vizár, CRYPTO 2015; also used by age and
 * Tink) over AES-256-GCM (NIST SP 800-38D):
 *
 * - chunk key = HKDF-SHA-256(ikm = data key, salt = random per sealing,
 *   info = label ‖ file id ‖ version) (RFC 5869). A per-file, per-version,
 *   per-sealing key: chunks of another file or version never authenticate,
 *   and the data key is random, never derived from content (no convergent
 *   encryption).
 * - nonce = 7 zero bytes ‖ uint32be(chunk index) ‖ last-chunk flag. The key is
 *   unique to this sealing, so the index alone makes every nonce unique; the
 *   flag makes a truncated payload (whose new last chunk was sealed as "not
 *   last") fail, and an extended one too.
 * - associated data = label ‖ file id ‖ version ‖ index ‖ total chunks.
 *
 * A chunk's id is SHA-256(ciphertext ‖ tag): it names stored bytes, never
 * the plaintext.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, hkdfSync, randomBytes } from 'node:crypto'
import type { CipherGCM, KeyObject } from 'node:crypto'
import { CHUNK_AAD_LABEL, CHUNK_KEY_LABEL, DATA_KEY_BYTES, NONCE_BYTES, TAG_BYTES } from './constants.js'
import { ChunkAuthError, ChunkSizeError, PayloadParameterError } from './errors.js'
import { checkLayout, chunkCount, plainChunkSize, sealedChunkSize } from './layout.js'
import type { PayloadLayout } from './layout.js'
import { concatBytes, utf8 } from './bytes.js'
import { piecesOf, type SomeBytes } from '../../codec/pieces.js'

/** A fresh random 32-byte data key, one per LFN. */
export function generateDataKey (): Uint8Array {
  return new Uint8Array(randomBytes(DATA_KEY_BYTES))
}

/** label ‖ 0x00 ‖ uint16be(len) ‖ file id ‖ uint64be(version): unambiguous for any file id. */
function fileContext (label: string, fileId: string, version: number): Uint8Array {
  const id = utf8(fileId)
  const head = new Uint8Array(3)
  head[0] = 0
  new DataView(head.buffer).setUint16(1, id.length)
  const ver = new Uint8Array(8)
  new DataView(ver.buffer).setBigUint64(0, BigInt(version))
  return concatBytes(utf8(label), head, id, ver)
}

function view (b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/**
 * A chunk's id: SHA-256 of its sealed bytes (ciphertext ‖ tag), computed on
 * the calling thread. (Hashing on libuv's pool or a worker thread was measured
 * slower on a busy 2-core host: WebCrypto copies its input first, and the
 * hand-over costs more CPU than it frees.)
 */
export function chunkId (sealed: SomeBytes): Uint8Array {
  const hash = createHash('sha256')
  for (const p of piecesOf(sealed)) hash.update(p)
  return view(hash.digest())
}

/** One chunk being sealed: plaintext pieces in, ciphertext ‖ tag out. */
export class ChunkSealing {
  readonly #cipher: CipherGCM
  readonly #out: Buffer
  readonly #size: number
  #at = 0

  constructor (cipher: CipherGCM, size: number) {
    this.#cipher = cipher
    this.#size = size
    // Never pooled, fully overwritten before it is returned: no stale memory can leak out.
    this.#out = Buffer.allocUnsafeSlow(size + TAG_BYTES)
  }

  /** Plaintext bytes this chunk still needs. */
  get remaining (): number {
    return this.#size - this.#at
  }

  update (piece: Uint8Array): void {
    if (piece.length > this.remaining) throw new PayloadParameterError('plaintext', `piece overruns the chunk by ${piece.length - this.remaining} bytes`)
    // GCM is a stream mode: as many ciphertext bytes out as plaintext bytes in.
    this.#out.set(this.#cipher.update(piece), this.#at)
    this.#at += piece.length
  }

  finish (): Uint8Array {
    if (this.remaining !== 0) throw new PayloadParameterError('plaintext', `chunk is ${this.remaining} bytes short`)
    this.#cipher.final()
    this.#out.set(this.#cipher.getAuthTag(), this.#size)
    return view(this.#out)
  }
}

/** Seals and opens the chunks of one payload layout under one data key. */
export class ChunkCipher {
  readonly layout: PayloadLayout
  readonly total: number
  readonly #key: KeyObject
  readonly #aad: Uint8Array
  readonly #aadView: DataView
  readonly #nonce = new Uint8Array(NONCE_BYTES)
  readonly #nonceView = new DataView(this.#nonce.buffer)

  constructor (dataKey: Uint8Array, layout: PayloadLayout) {
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
      throw new PayloadParameterError('dataKey', `must be ${DATA_KEY_BYTES} bytes`)
    }
    checkLayout(layout)
    this.layout = layout
    this.total = chunkCount(layout)
    const derived = new Uint8Array(hkdfSync('sha256', dataKey, layout.salt,
      fileContext(CHUNK_KEY_LABEL, layout.fileId, layout.version), DATA_KEY_BYTES))
    this.#key = createSecretKey(derived)
    derived.fill(0)
    const prefix = fileContext(CHUNK_AAD_LABEL, layout.fileId, layout.version)
    this.#aad = new Uint8Array(prefix.length + 8)
    this.#aad.set(prefix)
    this.#aadView = new DataView(this.#aad.buffer)
  }

  #prepare (index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.total) {
      throw new PayloadParameterError('index', `chunk ${index} outside [0, ${this.total})`)
    }
    this.#nonceView.setUint32(7, index)
    this.#nonce[11] = index === this.total - 1 ? 1 : 0
    this.#aadView.setUint32(this.#aad.length - 8, index)
    this.#aadView.setUint32(this.#aad.length - 4, this.total)
  }

  /** Starts sealing chunk `index`, to be fed its plaintext in pieces (no copy of the plaintext). */
  begin (index: number): ChunkSealing {
    this.#prepare(index)
    const cipher = createCipheriv('aes-256-gcm', this.#key, this.#nonce, { authTagLength: TAG_BYTES })
    cipher.setAAD(this.#aad)
    return new ChunkSealing(cipher, plainChunkSize(this.layout, index))
  }

  /** Seals chunk `index`; `plaintext` must have exactly that chunk's length. Returns ciphertext ‖ tag. */
  seal (index: number, plaintext: Uint8Array): Uint8Array {
    const sealing = this.begin(index)
    if (plaintext.length !== sealing.remaining) {
      throw new PayloadParameterError('plaintext', `chunk ${index} must be ${sealing.remaining} bytes, got ${plaintext.length}`)
    }
    sealing.update(plaintext)
    return sealing.finish()
  }

  /** Opens chunk `index`. Throws ChunkSizeError or ChunkAuthError; returns plaintext only once authenticated. */
  open (index: number, sealed: Uint8Array): Uint8Array {
    this.#prepare(index)
    const expected = sealedChunkSize(this.layout, index)
    if (sealed.length !== expected) throw new ChunkSizeError(index, expected, sealed.length)
    const size = expected - TAG_BYTES
    const decipher = createDecipheriv('aes-256-gcm', this.#key, this.#nonce, { authTagLength: TAG_BYTES })
    decipher.setAAD(this.#aad)
    decipher.setAuthTag(sealed.subarray(size))
    const plain = decipher.update(sealed.subarray(0, size))
    try {
      decipher.final()
    } catch {
      plain.fill(0)
      throw new ChunkAuthError(index)
    }
    return view(plain)
  }
}
