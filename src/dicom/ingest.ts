/**
 * Ingest: the one path by which an instance enters a node, whether it came
 * by C-STORE (imager, PACS C-MOVE), as a C-GET sub-operation, or from a file
 * (`importFile`). Order matters for crash safety: inspect the temporary
 * file, rename it into the slice store, then record it in the registry
 * (unsynced) while the one fsync of the renamed file runs; only once both
 * are done is success acknowledged. The file, not the record, is what makes
 * an instance durable (see SliceStore): `recover()` reconciles both ways at start-up. A
 * failure at any step removes the temporary file and records nothing.
 */
import { stat } from 'node:fs/promises'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { AddResult, InstanceInput, Registry } from '../registry/index.js'
import { InvalidDicomError } from './errors.js'
import { inspectBytes, inspectDescriptor, inspectFile, type DatasetWalk, type ExpectedInstance, type InstanceInfo } from './part10/index.js'
import type { SliceStore, TempFile } from './slice-store.js'

export interface IngestComponents {
  store: SliceStore
  registry: Registry
  logger: ComponentLogger
}

/** An instance's bytes held in memory as they arrived, and the walk that inspected them (see IngestResult.held). */
export interface HeldInstance {
  bytes: Uint8Array
  walk?: DatasetWalk
}

export interface IngestResult extends AddResult {
  sopInstanceUid: string
  /** Absolute path of the stored file. */
  path: string
  size: number
  /**
   * The file's bytes, when the temporary file held them in memory (a cache
   * fill, see ScuPool), and the walk that inspected them: what reads the
   * instance next need not read the file or walk its data set again.
   */
  held?: HeldInstance
}

/** Registry input from an inspected instance. */
export function instanceInput (info: InstanceInfo, file?: { path: string, size: number }): InstanceInput {
  const input: InstanceInput = {
    sopInstanceUid: info.sopInstanceUid,
    sopClassUid: info.sopClassUid,
    studyInstanceUid: info.studyInstanceUid,
    seriesInstanceUid: info.seriesInstanceUid,
    transferSyntaxUid: info.transferSyntaxUid,
    attributes: info.attributes
  }
  if (file !== undefined) input.file = file
  return input
}

export class Ingestor {
  private readonly store: SliceStore
  private readonly registry: Registry
  private readonly log: Logger

  constructor (components: IngestComponents) {
    this.store = components.store
    this.registry = components.registry
    this.log = components.logger.forComponent('dm2:dicom:ingest')
  }

  /**
   * Validates, commits and records a finished temporary file; the temp file
   * is consumed either way. `durable: false` for a cache fill (a copy of what
   * the hospital PACS keeps): not flushed at all.
   */
  async ingestTemp (temp: TempFile, expected?: ExpectedInstance, options: { durable?: boolean } = {}): Promise<IngestResult> {
    let info: InstanceInfo
    let held: HeldInstance | undefined
    try {
      if (temp.error !== undefined) {
        throw temp.error instanceof RangeError
          ? new InvalidDicomError(temp.error.message, 0xa700)
          : new InvalidDicomError('cannot write the instance', 0xa700)
      }
      const bytes = temp.held()
      if (bytes !== undefined) {
        // Held in memory as it was written: inspected there, the file not read back.
        const { info: inspected, walk } = inspectBytes(bytes, expected)
        info = inspected
        held = walk === undefined ? { bytes } : { bytes, walk }
      } else {
        // Read through the temp file's own descriptor: no open, fstat or close.
        const fd = temp.descriptor
        info = fd === undefined ? inspectFile(temp.path, expected) : inspectDescriptor(fd, temp.size, expected)
      }
    } catch (err) {
      await temp.discard()
      throw err
    }
    const relPath = this.registry.pathFor(info.seriesInstanceUid, info.sopInstanceUid)
    let committed: { path: string, durable: Promise<void> }
    try {
      committed = await this.store.commit(temp, relPath, options)
    } catch (err) {
      await temp.discard()
      throw err
    }
    // Registry write and the file's flush together; success only once both are done.
    const [result] = await Promise.all([
      this.registry.addInstance(instanceInput(info, { path: relPath, size: info.size })),
      committed.durable
    ])
    const path = committed.path
    this.log.trace('stored instance %s of %s', result.instanceKey, result.lfn)
    const stored: IngestResult = { ...result, sopInstanceUid: info.sopInstanceUid, path, size: info.size }
    if (held !== undefined) stored.held = held
    return stored
  }

  /** Imports a Part 10 file from disk (copied, never moved); throws `InvalidDicomError` for bad input. */
  async importFile (source: string): Promise<IngestResult> {
    const st = await stat(source)
    if (!st.isFile()) throw new InvalidDicomError('not a regular file')
    const temp = await this.store.copyToTemp(source)
    return await this.ingestTemp(temp)
  }

  /**
   * After a crash, reconciles the slice store and the registry both ways:
   * - a complete, valid file without a record (renamed, the unsynced record
   *   lost) is recorded now; an invalid one is deleted (never acknowledged);
   * - a record whose file is missing or shorter/longer than recorded (lost
   *   or cut by a power failure before its fsync, so never acknowledged, or
   *   an unflushed cache fill) loses its file: the instance is forgotten, or
   *   stays virtual when the PACS has it.
   * Returns how many files were recovered.
   */
  async recover (): Promise<number> {
    let recovered = 0
    let dropped = 0
    const files = new Set(await this.store.list())
    const lfns = new Set([...files].map(rel => rel.slice(0, rel.indexOf('/'))))
    for (const s of await this.registry.list()) if (s.present > 0) lfns.add(s.lfn)
    const known = new Set<string>()
    for (const lfn of lfns) {
      for (const i of await this.registry.instances(lfn)) {
        if (i.file === undefined) continue
        const size = files.has(i.file) ? await stat(this.store.absolute(i.file)).then(st => st.size, () => -1) : -1
        if (size === i.size) { known.add(i.file); continue }
        await this.registry.dropFile(lfn, i.key)
        if (size >= 0) await this.store.remove(i.file)
        dropped++
      }
    }
    for (const rel of files) {
      if (known.has(rel)) continue
      let info: InstanceInfo
      try {
        info = inspectFile(this.store.absolute(rel))
      } catch (err) {
        this.log.error('removing %s, not a complete instance: %s', rel, (err as Error).message)
        await this.store.remove(rel)
        continue
      }
      // A file its UIDs do not place here is not ours to judge (another site secret?): left alone.
      if (this.registry.pathFor(info.seriesInstanceUid, info.sopInstanceUid) !== rel) continue
      try {
        await this.registry.addInstance(instanceInput(info, { path: rel, size: info.size }))
        recovered++
      } catch (err) {
        this.log.error('cannot recover %s: %s', rel, (err as Error).message)
      }
    }
    if (recovered > 0 || dropped > 0) this.log('recovered %d instances stored before a crash, dropped %d incomplete', recovered, dropped)
    return recovered
  }
}
