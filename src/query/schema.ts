/**
 * The fixed schema of the query language: every field a query may name, its
 * type, and whether it is identifying.
 *
 * - **Descriptive** fields (`identifying: false`) describe an image, not a
 *   person: modality, body part, cleaned descriptions, geometry, acquisition
 *   parameters, the diagnosis-known flag. Anyone with a `query`/`meta/read`
 *   right may use them, and they may be replicated federation-wide.
 * - **Identifying** fields (`identifying: true`) are attributes PS3.15 Annex E
 *   Table E.1-1 removes or replaces (patient name/id/birth date, accession
 *   number, dates, institution, physicians). They stay on the trusted site and
 *   a query may name them only under an identified-read right: the serving
 *   site calls `checkRights(ast, { identified })` before evaluating.
 *
 * Types and what they allow (`checks.ts` enforces it):
 *
 * | type | values | operators |
 * |---|---|---|
 * | `string` | `"text"` | `= != < > <= >=` (UTF-16 order), BETWEEN, IN, LIKE |
 * | `enum` | `"CODE"` (printable ASCII, ≤ 64, compared upper-cased: DICOM CS/UI) | `= !=`, IN, LIKE |
 * | `number` | `12`, `-1.5`, `3e2` | `= != < > <= >=`, BETWEEN, IN |
 * | `date` | `"20030514"` (DICOM DA) or `"14May2003"`; `= "A-B"`, `"A-"`, `"-B"` ranges | `= != < > <= >=`, BETWEEN, IN |
 * | `boolean` | `true`, `false` (or the bare field for `= true`) | `= !=`, IN |
 *
 * Field names are matched without regard to case; `date` is an alias of
 * `studyDate` (the paper's `date="14May2003"`), `studyType` of
 * `studyDescription`. The AST and the printed form use the canonical name.
 */

export type FieldType = 'string' | 'enum' | 'number' | 'date' | 'boolean'

export interface FieldSpec {
  /** Canonical name, as in the AST and in a metadata record. */
  readonly name: string
  readonly type: FieldType
  /** True: usable only with an identified-read right (PS3.15 Annex E Table E.1-1). */
  readonly identifying: boolean
  /** Strings compare upper-cased: always for `enum`, and for person names (PN, as C-FIND usually does). */
  readonly caseInsensitive: boolean
  /** The DICOM keyword the value comes from, when there is one. */
  readonly dicom?: string
  /** Unit of a number, as DICOM gives it. */
  readonly unit?: string
  /** Other names accepted in a query. */
  readonly aliases: readonly string[]
  readonly description: string
}

interface Extra { dicom?: string, unit?: string, aliases?: string[], caseInsensitive?: boolean }

function field (name: string, type: FieldType, identifying: boolean, description: string, extra: Extra = {}): FieldSpec {
  return Object.freeze({
    name,
    type,
    identifying,
    caseInsensitive: type === 'enum' || extra.caseInsensitive === true,
    ...(extra.dicom === undefined ? {} : { dicom: extra.dicom }),
    ...(extra.unit === undefined ? {} : { unit: extra.unit }),
    aliases: Object.freeze(extra.aliases ?? []),
    description
  })
}

/** Every field, descriptive first, in documentation order. */
export const SCHEMA: readonly FieldSpec[] = Object.freeze([
  // Descriptive: image, not person.
  field('lfn', 'string', false, 'logical file name of the series (opaque, no patient data)'),
  field('site', 'string', false, 'name of the site holding the master copy'),
  field('modality', 'enum', false, 'acquisition modality: CT, MR, PT, US, …', { dicom: 'Modality' }),
  field('bodyPart', 'enum', false, 'body part examined: HEART, CHEST, HEAD, …', { dicom: 'BodyPartExamined' }),
  field('studyDescription', 'string', false, 'study description, cleaned of identifying tokens', { dicom: 'StudyDescription', aliases: ['studyType'] }),
  field('seriesDescription', 'string', false, 'series description, cleaned of identifying tokens', { dicom: 'SeriesDescription' }),
  field('manufacturer', 'string', false, 'equipment manufacturer', { dicom: 'Manufacturer' }),
  field('manufacturerModel', 'string', false, 'equipment model name', { dicom: 'ManufacturerModelName' }),
  field('rows', 'number', false, 'rows of each slice', { dicom: 'Rows' }),
  field('columns', 'number', false, 'columns of each slice', { dicom: 'Columns' }),
  field('slices', 'number', false, 'number of slices (instances) in the series'),
  field('pixelSpacing', 'number', false, 'in-plane pixel spacing (row spacing, first value)', { dicom: 'PixelSpacing', unit: 'mm' }),
  field('sliceThickness', 'number', false, 'nominal slice thickness', { dicom: 'SliceThickness', unit: 'mm' }),
  field('spacingBetweenSlices', 'number', false, 'spacing between slice centres', { dicom: 'SpacingBetweenSlices', unit: 'mm' }),
  field('transferSyntax', 'enum', false, 'transfer syntax UID of the stored slices', { dicom: 'TransferSyntaxUID' }),
  field('diagnosisKnown', 'boolean', false, 'a medical diagnosis is known for this image (paper §4.5)'),
  field('magneticFieldStrength', 'number', false, 'MR field strength', { dicom: 'MagneticFieldStrength', unit: 'T' }),
  field('repetitionTime', 'number', false, 'MR repetition time (TR)', { dicom: 'RepetitionTime', unit: 'ms' }),
  field('echoTime', 'number', false, 'MR echo time (TE)', { dicom: 'EchoTime', unit: 'ms' }),
  field('inversionTime', 'number', false, 'MR inversion time (TI)', { dicom: 'InversionTime', unit: 'ms' }),
  field('flipAngle', 'number', false, 'MR flip angle', { dicom: 'FlipAngle', unit: 'deg' }),
  field('mrAcquisitionType', 'enum', false, 'MR acquisition type: 2D or 3D', { dicom: 'MRAcquisitionType' }),
  field('kvp', 'number', false, 'CT/X-ray peak kilovoltage', { dicom: 'KVP', unit: 'kV' }),
  field('xRayTubeCurrent', 'number', false, 'CT/X-ray tube current', { dicom: 'XRayTubeCurrent', unit: 'mA' }),
  field('convolutionKernel', 'string', false, 'CT reconstruction kernel', { dicom: 'ConvolutionKernel' }),
  // Identifying: PS3.15 Annex E Table E.1-1; trusted sites only, identified-read right only.
  field('patientID', 'string', true, 'patient identifier at the site', { dicom: 'PatientID' }),
  field('patientName', 'string', true, 'patient name (DICOM PN, compared upper-cased)', { dicom: 'PatientName', caseInsensitive: true }),
  field('patientBirthDate', 'date', true, 'patient birth date', { dicom: 'PatientBirthDate' }),
  field('accessionNumber', 'string', true, 'accession number of the study', { dicom: 'AccessionNumber' }),
  field('studyDate', 'date', true, 'date the study started (the paper\'s `date`)', { dicom: 'StudyDate', aliases: ['date'] }),
  field('institutionName', 'string', true, 'institution where the study was acquired', { dicom: 'InstitutionName' }),
  field('referringPhysician', 'string', true, 'referring physician (DICOM PN, compared upper-cased)', { dicom: 'ReferringPhysicianName', caseInsensitive: true })
])

/** Canonical name → field. */
export const FIELDS: ReadonlyMap<string, FieldSpec> = new Map(SCHEMA.map(f => [f.name, f]))

const byLowerName = new Map<string, FieldSpec>()
for (const f of SCHEMA) {
  for (const name of [f.name, ...f.aliases]) byLowerName.set(name.toLowerCase(), f)
}

/** The field a query name designates (any case, or an alias), or `undefined`. */
export function lookupField (name: string): FieldSpec | undefined {
  return byLowerName.get(name.toLowerCase())
}

/** Names of the descriptive fields, in schema order. */
export const DESCRIPTIVE_FIELDS: readonly string[] = Object.freeze(SCHEMA.filter(f => !f.identifying).map(f => f.name))
/** Names of the identifying fields, in schema order. */
export const IDENTIFYING_FIELDS: readonly string[] = Object.freeze(SCHEMA.filter(f => f.identifying).map(f => f.name))

/** The closest canonical name within two edits of `name`, for "did you mean". */
export function suggestField (name: string): string | undefined {
  const wanted = name.toLowerCase()
  if (wanted.length > 64) return undefined
  let best: { name: string, distance: number } | undefined
  for (const [candidate, spec] of byLowerName) {
    const d = distance(wanted, candidate)
    if (d <= 2 && (best === undefined || d < best.distance)) best = { name: spec.name, distance: d }
  }
  return best?.name
}

/** Levenshtein distance (small strings only). */
function distance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
