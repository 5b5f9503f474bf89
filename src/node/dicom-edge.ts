/**
 * The DICOM edge seen from the image pipeline: the registry as the catalog of
 * series this site is master of, and the slice store plus the PACS (C-GET
 * through the SCU pool) as the source of their slices.
 */
import type { StandaloneEdge } from '../dicom/standalone.js'
import { fetchSeries, type StoredInstance } from '../dicom/retrieve.js'
import type { SeriesCatalog, SeriesInfo, SliceProvider } from '../imaging/types.js'
import type { AttrMap } from '../registry/index.js'
import type { CacheFills } from './cache-fills.js'

/** Descriptive attributes that may travel in the LFN record (never identifying ones). */
const RECORD_META: Readonly<Record<string, string>> = {
  Modality: 'modality',
  BodyPartExamined: 'bodyPart',
  Rows: 'rows',
  Columns: 'columns',
  Manufacturer: 'manufacturer'
}

function first (value: AttrMap[string] | undefined): string | number | undefined {
  return Array.isArray(value) ? value[0] : value
}

export function registryCatalog (edge: StandaloneEdge): SeriesCatalog {
  return {
    describe: async (lfn) => {
      const record = await edge.registry.get(lfn)
      if (record === undefined || record.state !== 'registered' || record.version < 1) return undefined
      const d = record.descriptive
      const meta: Record<string, string | number> = { slices: record.instances }
      for (const [attr, key] of Object.entries(RECORD_META)) {
        const v = first(d[attr])
        if (v !== undefined && String(v).length <= 64) meta[key] = v
      }
      const info: SeriesInfo = {
        lfn,
        version: record.version,
        instances: (await edge.registry.instances(lfn)).map(i => i.sopInstanceUid),
        meta
      }
      const modality = first(d.Modality)
      const bodyPart = first(d.BodyPartExamined)
      if (modality !== undefined) info.modality = String(modality)
      if (bodyPart !== undefined) info.bodyPart = String(bodyPart)
      const studyDate = first((await edge.registry.identifying(lfn)).StudyDate)
      if (typeof studyDate === 'string' && /^\d{8}$/.test(studyDate)) info.date = studyDate
      return info
    }
  }
}

/**
 * Slices from the registry: on disk, else fetched from the PACS. With
 * `fills`, what is fetched counts against its byte budget, and a series is
 * kept on disk from `ensure` to `release`.
 */
export function registrySlices (edge: StandaloneEdge, fills?: CacheFills): SliceProvider {
  return {
    ensure: async (series, { signal, onProgress, onFile }) => {
      await fills?.pin(series.lfn)
      let instances = await edge.registry.instances(series.lfn)
      const missing = instances.filter(i => i.file === undefined).length
      if (missing > 0) {
        if (edge.pool === undefined) throw new Error(`${missing} slices of ${series.lfn} are not here and no PACS is configured`)
        await fetchSeries({ pool: edge.pool, registry: edge.registry }, series.lfn, {
          ...(signal === undefined ? {} : { signal }),
          onProgress: p => onProgress?.({ done: p.completed, total: p.total }),
          ...(onFile === undefined ? {} : { onInstance: (r: StoredInstance) => { onFile(r.held === undefined ? { name: r.key, path: r.path } : { name: r.key, path: r.path, held: r.held }) } })
        }, instances)
        instances = await edge.registry.instances(series.lfn)
      }
      onProgress?.({ done: instances.length, total: instances.length })
      const files = instances.map(i => {
        if (i.file === undefined) throw new Error(`slice ${i.key} of ${series.lfn} is still missing`)
        return { name: i.key, path: edge.store.absolute(i.file) }
      })
      await fills?.touch(series.lfn)
      return files
    },
    release: (series) => { fills?.unpin(series.lfn) },
    missing: async (series) => (await edge.registry.instances(series.lfn)).filter(i => i.file === undefined).map(i => i.key),
    evict: async (lfn, keys) => {
      const record = await edge.registry.get(lfn)
      // Only copies of what the PACS holds: instances received here are masters.
      if (record?.origin !== 'pacs') return
      const wanted = new Set(keys)
      for (const i of await edge.registry.instances(lfn)) {
        if (!wanted.has(i.key) || i.file === undefined) continue
        await edge.registry.dropFile(lfn, i.key)
        await edge.store.remove(i.file)
      }
      await fills?.recount(lfn)
    }
  }
}
