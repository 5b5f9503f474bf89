/** What the image pipeline needs from the rest of the node. */
import type { HeldInstance } from '../dicom/ingest.js'

/** One registered series, as the registry describes it (descriptive fields only). */
export interface SeriesInfo {
  lfn: string
  /** Changes whenever an instance is added: a new version invalidates cached images and replicas. */
  version: number
  modality?: string
  bodyPart?: string
  /** DICOM DA of the study, for date-bounded certificates (stays at the site). */
  date?: string
  studyType?: string
  /** SOP Instance UIDs of the series (stay at the site). */
  instances: string[]
  /** Descriptive metadata allowed to leave the site, for the LFN record. */
  meta: Record<string, string | number>
}

/** The registry, seen from the pipeline. */
export interface SeriesCatalog {
  describe: (lfn: string) => Promise<SeriesInfo | undefined>
}

export interface SliceProgress {
  done: number
  total: number
}

/**
 * A slice that just landed: its name and file, and, when the fetch held it in
 * memory, its bytes and the walk that inspected them (see IngestResult).
 */
export interface ArrivedSlice {
  name: string
  path: string
  held?: HeldInstance
}

/** The DICOM side: brings the instances of a series onto local disk (slice cache, else PACS). */
export interface SliceProvider {
  /**
   * The slices of the series on local disk, as `{ name, path }` (name: a
   * stable key of the instance). `onFile` hears of each slice fetched as soon
   * as it lands (optional: a provider may not report any), so that reading it
   * can overlap the rest of the retrieval.
   */
  ensure: (series: SeriesInfo, options: { signal?: AbortSignal, onProgress?: (p: SliceProgress) => void, onFile?: (file: ArrivedSlice) => void }) => Promise<Array<{ name: string, path: string }>>
  /**
   * The instances `ensure` would have to fetch (keys), so that a preparation
   * that fails can `evict` exactly those again: a failed getImage leaves no
   * slice it brought in behind. Providers without a fetch omit both.
   */
  missing?: (series: SeriesInfo) => Promise<string[]>
  /** Removes the fetched copies of these instances (idempotent; masters are never touched). */
  evict?: (lfn: string, keys: string[]) => Promise<void>
  /**
   * The caller is done reading the files `ensure` gave (called once after
   * each `ensure`, whether it succeeded or not): until then a provider with a
   * byte budget keeps them on disk.
   */
  release?: (series: SeriesInfo) => void
}

/** The result of preparing an image: what a requester needs to fetch it. */
export interface PreparedImage {
  lfn: string
  version: number
  /** The signed manifest, as encoded. */
  manifest: Uint8Array
  /** Hex Merkle root = content id. */
  contentId: string
  /** True when it came from the image cache. */
  cached: boolean
}

export type PrepareEvent =
  | { step: 'cache', hit: boolean }
  | { step: 'slices', done: number, total: number }
  | { step: 'assemble' }
  | { step: 'deidentify' }
  | { step: 'seal', chunks: number, totalChunks: number }
  | { step: 'publish' }
