/**
 * Data keys of the LFN versions this site is master of, in the node's
 * LevelDB (inside the 0700 data directory, synced writes). A data key never
 * leaves the site except wrapped to an authorized requester (key release).
 */
import { decodeCanonical, encodeCanonical } from '../sac/cbor.js'
import { sha256Hex } from './compensations.js'

/**
 * The name of a data key in a rollback journal: its SHA-256 in hex. The
 * key is 32 random bytes, so its hash tells nothing about it.
 */
export function keyIdOf (dataKey: Uint8Array): string {
  return sha256Hex(dataKey)
}

export interface KeyStoreDb {
  get: (key: string) => Promise<Uint8Array | undefined>
  put: (key: string, value: Uint8Array, options?: { sync?: boolean }) => Promise<void>
  del: (key: string, options?: { sync?: boolean }) => Promise<void>
}

export interface StoredKey {
  dataKey: Uint8Array
  /** Hex Merkle root of the sealed payload of this version. */
  contentId: string
}

export class DataKeys {
  private readonly db: KeyStoreDb

  constructor (db: KeyStoreDb) {
    this.db = db
  }

  /**
   * Not synced on its own: it is written inside a preparation, whose undo was
   * journaled (synced) before and whose commit record, synced after it in the
   * same LevelDB log, makes it durable with everything before it.
   */
  async put (lfn: string, version: number, key: StoredKey): Promise<void> {
    await this.db.put(`${lfn}@${version}`, encodeCanonical({ dataKey: key.dataKey, contentId: key.contentId }, 1024))
  }

  async get (lfn: string, version: number): Promise<StoredKey | undefined> {
    const bytes = await this.db.get(`${lfn}@${version}`)
    if (bytes === undefined) return undefined
    const v = decodeCanonical(bytes, 1024) as unknown as StoredKey
    return { dataKey: v.dataKey, contentId: v.contentId }
  }

  /**
   * Deletes the key of `lfn@version` if it is still the one a rollback
   * names: by its id (`keyId`, see keyIdOf) or by the content it sealed (a
   * rollback must not drop a newer preparation's key). Idempotent.
   */
  async delete (lfn: string, version: number, which: { keyId: string } | { contentId: string }): Promise<void> {
    const stored = await this.get(lfn, version)
    if (stored === undefined) return
    const ours = 'keyId' in which ? keyIdOf(stored.dataKey) === which.keyId : stored.contentId === which.contentId
    if (ours) await this.db.del(`${lfn}@${version}`, { sync: true })
  }
}
