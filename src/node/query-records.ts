/**
 * The registry as the metadata query service sees it: one record per
 * registered series, descriptive fields by their query-schema names (read
 * from the DICOM keyword each field names), identifying ones only for an
 * identified scan, and the resource descriptor access control judges.
 */
import type { StandaloneEdge } from '../dicom/standalone.js'
import type { QueryRecord, RecordScan } from '../protocols/query/index.js'
import type { MetadataRecord } from '../query/index.js'
import { SCHEMA } from '../query/schema.js'
import type { AttrMap } from '../registry/index.js'
import type { ResourceDescriptor } from '../sac/index.js'

/** The study description is filed as identifying by the registry (free text); it is not offered. */
const NOT_OFFERED = new Set(['studyDescription'])

function valueOf (attrs: AttrMap, keyword: string): string | number | undefined {
  const v = attrs[keyword]
  return Array.isArray(v) ? v[0] : v
}

export interface RecordSourceInit {
  edge: StandaloneEdge
  site: string
  /** The descriptor of a series for access control (owner, custodian, modality, …). */
  resourceOf: (lfn: string, version: number, attrs: { modality?: string, bodyPart?: string, date?: string }) => Promise<ResourceDescriptor>
  /** Whether a diagnosis is recorded for the series (field `diagnosisKnown`); absent: the field is left out. */
  diagnosed?: (lfn: string) => boolean
}

export function registryRecords (init: RecordSourceInit): (scan: RecordScan) => AsyncIterable<QueryRecord> {
  return async function * (scan) {
    for (const series of await init.edge.registry.list({ state: 'registered' })) {
      const identifying = await init.edge.registry.identifying(series.lfn)
      const descriptive: Record<string, string | number | boolean> = { lfn: series.lfn, site: init.site, slices: series.instances }
      if (init.diagnosed !== undefined) descriptive.diagnosisKnown = init.diagnosed(series.lfn)
      const ident: Record<string, string | number> = {}
      for (const f of SCHEMA) {
        if (f.dicom === undefined || NOT_OFFERED.has(f.name)) continue
        const v = valueOf(f.identifying ? identifying : series.descriptive, f.dicom)
        if (v === undefined) continue
        if (f.identifying) ident[f.name] = v
        else descriptive[f.name] = v
      }
      const date = valueOf(identifying, 'StudyDate')
      const modality = valueOf(series.descriptive, 'Modality')
      const bodyPart = valueOf(series.descriptive, 'BodyPartExamined')
      const resource = await init.resourceOf(series.lfn, series.version, {
        ...(modality === undefined ? {} : { modality: String(modality) }),
        ...(bodyPart === undefined ? {} : { bodyPart: String(bodyPart) }),
        ...(typeof date === 'string' && /^\d{8}$/.test(date) ? { date } : {})
      })
      const record: QueryRecord = { lfn: series.lfn, descriptive: descriptive as MetadataRecord, resource }
      if (scan.identified) record.identifying = ident as MetadataRecord
      yield record
    }
  }
}
