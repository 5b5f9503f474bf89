/**
 * The image pipeline of a master site (DESIGN.md getImage steps 2–6): from a
 * registered LFN to a sealed, signed, cached image whose chunks the site
 * serves. A miss runs as one transaction on `src/tx` (admission control,
 * joined builds on the `pacs:<site>` pool, journaled undo of every effect,
 * rollback at start-up with `pipeline.engine.recover()`). Two forms of an
 * image: the NIfTI volume (default), and the DICOM form (`format: 'dicom'`:
 * the series' objects, each de-identified by PS3.15 Annex E, in a bundle;
 * dicom-bundle.ts), cached and keyed under `<lfn>~dicom`.
 *
 * @example
 * ```ts
 * import { Level } from 'level'
 * import { defaultLogger } from '@libp2p/logger'
 * import { TxEngine } from './src/tx/index.js'
 * import { ImagePipeline, DataKeys, ContentIndex } from './src/imaging/index.js'
 *
 * const db = new Level<string, string>('/tmp/dm2-imaging-example')
 * const engine = new TxEngine({ db: db.sublevel<string, string>('tx-imaging', {}), logger: defaultLogger(), maxConcurrentQueries: 4 })
 * const pipeline = new ImagePipeline({ engine, site: 'HOSPITAL_A', catalog, slices, images, keys, index, signer, master, publish, scratch, log })
 * await engine.recover() // after the pipeline registered its compensation kinds
 * const prepared = await pipeline.prepare('lfn-ct-1', { onProgress: (e) => { console.log(e.step) } })
 * // prepared.manifest: the signed manifest; a failure throws PrepareError (err.step), BusyError or AbortError
 * ```
 */
export { ImagePipeline, type ImagePipelineInit, type PrepareOptions } from './prepare.js'
export type { PublishInput } from './build.js'
export { ContentIndex, imageChunkStore, type ContentIndexDb } from './chunk-store.js'
export { DEFAULT_HOT_IMAGE_BYTES, HotImages, type HotImage } from './hot-images.js'
export { DataKeys, type KeyStoreDb, type StoredKey } from './keystore.js'
export { BundleFormatError, PrepareError, UnknownLfnError } from './errors.js'
export { COMPENSATION, DEFAULT_SITE, DEID_PROFILE, DICOM_DEID_PROFILE, PACS_SERVICE_PREFIX, PREPARE_QUERY, STEPS, type PrepareStep } from './constants.js'
export { memoryJournal } from './memory-journal.js'
export type * from './types.js'
export { BundleReader, bundleObjects, imageId, isImageFormat, parseImageId, type ImageFormat } from './dicom-bundle.js'
