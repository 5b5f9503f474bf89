/**
 * DICOM Part 10 files: a bounded, validating parser (PS3.5 §7, PS3.10 §7.1)
 * that never reads pixel data into memory, and the File Meta Information a
 * node writes in front of a data set received over the network.
 *
 * @example
 * ```ts
 * import { inspectFile } from './part10/index.js'
 * const info = inspectFile('slice.dcm') // throws InvalidDicomError on bad input
 * console.log(info.seriesInstanceUid, info.pixel?.rows, info.attributes.Modality)
 * ```
 */
export { inspectBytes, inspectDescriptor, inspectFile, inspectSource, type DatasetWalk, type InspectedBytes, type InstanceInfo, type PixelSummary, type ExpectedInstance } from './inspect.js'
export { encodeFileMeta, readFileMeta, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION, type FileMeta, type MetaFields } from './meta.js'
export { BufferSource, FileSource, withFileSource, type ByteSource } from './source.js'
export { decodeAttributes, type AttrValue, type Attributes } from './values.js'
export { tagOf, keywordOf } from './dictionary.js'
export { walkDataset, syntaxOf, type DatasetScan, type Syntax } from './walker.js'
