/**
 * Ingest: the one path by which an instance enters a node, whether it came
 * by C-STORE (imager, PACS C-MOVE), as a C-GET sub-operation, or from a file
 * (`importFile`). Order matters for crash safety: inspect the temporary
 * file, fsync it, rename it into the slice store, then record it in the
 * registry; only then is success acknowledged. A failure at any step removes
 * the temporary file and records nothing.
 */
import { stat } from 'node:fs/promises'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { AddResult, InstanceInput, Registry } from '../registry/index.js'
import { InvalidDicomError } from './errors.js'
import { inspectFile, type ExpectedInstance, type InstanceInfo } from './part10/index.js'
import type { SliceStore, TempFile } from './slice-store.js'

export interface IngestComponents {
  store: SliceStore
  registry: Registry
  logger: ComponentLogger
}

export interface IngestResult extends AddResult {
  sopInstanceUid: string
  /** Absolute path of the stored file. */
  path: string
  size: number
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

  /** Validates, commits and records a finished temporary file; the temp file is consumed either way. */
  async ingestTemp (temp: TempFile, expected?: ExpectedInstance): Promise<IngestResult> {
    let info: InstanceInfo
    try {
      if (temp.error !== undefined) {
        throw temp.error instanceof RangeError
          ? new InvalidDicomError(temp.error.message, 0xa700)
          : new InvalidDicomError('cannot write the instance', 0xa700)
      }
      // The flush runs in the thread pool while the (synchronous) inspection runs here.
      const flushed = temp.finish()
      try {
        info = inspectFile(temp.path, expected)
      } finally {
        await flushed
      }
    } catch (err) {
      await temp.discard()
      throw err
    }
    const relPath = this.registry.pathFor(info.seriesInstanceUid, info.sopInstanceUid)
    let committed: { path: string, durable: Promise<void> }
    try {
      committed = await this.store.commit(temp, relPath)
    } catch (err) {
      await temp.discard()
      throw err
    }
    // Registry write and folder flush together; success only once both are done.
    const [result] = await Promise.all([
      this.registry.addInstance(instanceInput(info, { path: relPath, size: info.size })),
      committed.durable
    ])
    const path = committed.path
    this.log.trace('stored instance %s of %s', result.instanceKey, result.lfn)
    return { ...result, sopInstanceUid: info.sopInstanceUid, path, size: info.size }
  }

  /** Imports a Part 10 file from disk (copied, never moved); throws `InvalidDicomError` for bad input. */
  async importFile (source: string): Promise<IngestResult> {
    const st = await stat(source)
    if (!st.isFile()) throw new InvalidDicomError('not a regular file')
    const temp = await this.store.copyToTemp(source)
    return await this.ingestTemp(temp)
  }

  /**
   * After a crash: files renamed into the store whose registry write did not
   * happen were never acknowledged, but they are complete and valid, so they
   * are recorded now. Returns how many were recovered.
   */
  async recover (): Promise<number> {
    let recovered = 0
    const known = new Map<string, Set<string>>()
    for (const rel of await this.store.list()) {
      const lfn = rel.slice(0, rel.indexOf('/'))
      let files = known.get(lfn)
      if (files === undefined) {
        files = new Set((await this.registry.instances(lfn)).flatMap(i => i.file === undefined ? [] : [i.file]))
        known.set(lfn, files)
      }
      if (files.has(rel)) continue
      try {
        const info = inspectFile(this.store.absolute(rel))
        if (this.registry.pathFor(info.seriesInstanceUid, info.sopInstanceUid) !== rel) continue
        await this.registry.addInstance(instanceInput(info, { path: rel, size: info.size }))
        recovered++
      } catch (err) {
        this.log.error('cannot recover %s: %s', rel, (err as Error).message)
      }
    }
    if (recovered > 0) this.log('recovered %d instances stored before a crash', recovered)
    return recovered
  }
}
