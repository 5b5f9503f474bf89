import { describe, it, expect } from 'vitest'
import { compile, matches, parse, readValue, FIELDS, type MetadataRecord } from '../../src/query/index.js'

/** A small table of series, as a site's registry would hand them to the evaluator. */
const TABLE: MetadataRecord[] = [
  { lfn: 'a', site: 'HOSPITAL_A', modality: 'MR', bodyPart: 'HEART', seriesDescription: 'CINE SAX', rows: 256, columns: 256, slices: 12, sliceThickness: 8, magneticFieldStrength: 1.5, echoTime: 1.2, diagnosisKnown: true, patientID: 'MR X', patientName: 'DOE^JOHN', studyDate: '20030514' },
  { lfn: 'b', site: 'HOSPITAL_A', modality: 'MR', bodyPart: 'HEART', seriesDescription: 'T1 MAP', rows: 192, columns: 256, slices: 10, sliceThickness: '6.0', magneticFieldStrength: '3', diagnosisKnown: false, patientID: 'MR X', patientName: 'Doe^John', studyDate: '20030513' },
  { lfn: 'c', site: 'HOSPITAL_B', modality: 'ct ', bodyPart: 'CHEST', seriesDescription: 'Lung 1.0', rows: 512, columns: 512, slices: 300, kvp: 120, diagnosisKnown: 'true', patientID: 'P-0002', studyDate: '2003-05-20' },
  { lfn: 'd', site: 'HOSPITAL_C', modality: 'CT', bodyPart: 'HEART', rows: 512, columns: 512, slices: 64, kvp: '100', patientID: 'P-0003', studyDate: '2003.06.01' },
  { lfn: 'e', site: 'HOSPITAL_C', modality: 'US', bodyPart: null, seriesDescription: '', rows: 'n/a', diagnosisKnown: 'maybe', studyDate: 'unknown' },
  { lfn: 'f', site: 'HOSPITAL_B', modality: 'PT' }
]

function run (query: string): string[] {
  const ast = parse(query)
  const viaMatches = TABLE.filter(r => matches(ast, r)).map(r => String(r.lfn))
  const predicate = compile(ast)
  expect(TABLE.filter(predicate).map(r => String(r.lfn))).toEqual(viaMatches)
  return viaMatches
}

describe('matches and compile on a table of records', () => {
  it.each([
    // The paper's query, and its comparable-images follow-up (§4.5).
    ['WHERE patientID="MR X" AND date="14May2003"', ['a']],
    ['modality = "MR" AND bodyPart = "HEART" AND diagnosisKnown', ['a']],
    // = and != on enums ignore case and DICOM padding; != is false on a missing value.
    ['modality = "CT"', ['c', 'd']],
    ['modality != "MR"', ['c', 'd', 'e', 'f']],
    ['bodyPart != "HEART"', ['c']],
    ['NOT bodyPart = "HEART"', ['c', 'e', 'f']],
    // Numbers, also from DICOM DS/IS text.
    ['rows = 512', ['c', 'd']],
    ['rows < 256', ['b']],
    ['rows <= 256', ['a', 'b']],
    ['rows > 256', ['c', 'd']],
    ['rows >= 512', ['c', 'd']],
    ['rows != 512', ['a', 'b']],
    ['sliceThickness = 6', ['b']],
    ['magneticFieldStrength >= 3', ['b']],
    ['kvp BETWEEN 100 AND 119', ['d']],
    ['slices NOT BETWEEN 11 AND 100', ['b', 'c', 'e', 'f']],
    // Dates: DA, ISO and ACR-NEMA forms in records; ranges open and closed.
    ['date = "20030514"', ['a']],
    ['date = "20030501-20030531"', ['a', 'b', 'c']],
    ['date = "20030514-"', ['a', 'c', 'd']],
    ['date = "-20030514"', ['a', 'b']],
    ['date > "13May2003" AND date < "1Jun2003"', ['a', 'c']],
    ['date IN ("20030513", "20030601")', ['b', 'd']],
    // LIKE is a prefix match on the trimmed value; "*" alone means "present".
    ['seriesDescription LIKE "T1*"', ['b']],
    ['seriesDescription LIKE "*"', ['a', 'b', 'c', 'e']],
    ['seriesDescription NOT LIKE "*"', ['d', 'f']],
    ['site LIKE "HOSPITAL_*"', ['a', 'b', 'c', 'd', 'e', 'f']],
    ['site LIKE "hospital_*"', []],
    ['patientName LIKE "doe^*"', ['a', 'b']],
    ['modality LIKE "c*"', ['c', 'd']],
    // IN.
    ['modality IN ("CT", "PT")', ['c', 'd', 'f']],
    ['modality NOT IN ("CT", "PT")', ['a', 'b', 'e']],
    ['rows IN (192, 512)', ['b', 'c', 'd']],
    // Booleans: true/"true"; "maybe" is missing.
    ['diagnosisKnown = true', ['a', 'c']],
    ['diagnosisKnown = false', ['b']],
    ['diagnosisKnown != true', ['b']],
    ['NOT diagnosisKnown', ['b', 'd', 'e', 'f']],
    // Strings: exact (after trimming), case-sensitive unless a person name.
    ['patientID = "MR X"', ['a', 'b']],
    ['patientID = "mr x"', []],
    ['patientName = "doe^john"', ['a', 'b']],
    ['seriesDescription = "Lung 1.0"', ['c']],
    ['seriesDescription >= "T"', ['b']],
    // Precedence and parentheses.
    ['modality = "MR" OR modality = "CT" AND bodyPart = "CHEST"', ['a', 'b', 'c']],
    ['(modality = "MR" OR modality = "CT") AND bodyPart = "CHEST"', ['c']],
    ['NOT (modality = "MR" OR modality = "CT")', ['e', 'f']],
    ['NOT NOT modality = "US"', ['e']]
  ])('%s', (query, expected) => {
    expect(run(query)).toEqual(expected)
  })

  it('a missing, null or unreadable value makes every predicate false', () => {
    const empty: MetadataRecord = { lfn: 'x', rows: null, columns: undefined, slices: 'many', studyDate: 'unknown', diagnosisKnown: 'maybe' }
    for (const q of ['rows = 1', 'rows != 1', 'columns < 1', 'slices >= 0', 'rows BETWEEN 0 AND 9999', 'rows IN (1, 2)',
      'date = "20030514"', 'date != "20030514"', 'date = "19000101-"', 'diagnosisKnown = true', 'diagnosisKnown != true',
      'modality = "MR"', 'modality != "MR"', 'modality LIKE "*"', 'manufacturer < "zzz"']) {
      expect(matches(parse(q), empty)).toBe(false)
      expect(compile(parse(q))(empty)).toBe(false)
      expect(matches(parse(`NOT ${q}`), empty)).toBe(true)
    }
  })

  it('reads only own properties of a record', () => {
    const inherited = Object.create({ modality: 'MR' }) as MetadataRecord
    expect(matches(parse('modality = "MR"'), inherited)).toBe(false)
  })

  it('readValue: the canonical form of record values by field type', () => {
    const spec = (name: string): NonNullable<ReturnType<typeof FIELDS.get>> => FIELDS.get(name) ?? expect.fail(name)
    expect(readValue(spec('modality'), { modality: ' mr ' })).toBe('MR')
    expect(readValue(spec('rows'), { rows: ' 512 ' })).toBe(512)
    expect(readValue(spec('rows'), { rows: '' })).toBeUndefined()
    expect(readValue(spec('rows'), { rows: true })).toBeUndefined()
    expect(readValue(spec('studyDate'), { studyDate: 20030514 })).toBe('20030514')
    expect(readValue(spec('studyDate'), { studyDate: '2003-05-14' })).toBe('20030514')
    expect(readValue(spec('diagnosisKnown'), { diagnosisKnown: 'FALSE' })).toBe(false)
    expect(readValue(spec('patientID'), { patientID: 42 })).toBe('42')
    expect(readValue(spec('seriesDescription'), { seriesDescription: 'Cafe\u0301 ' })).toBe('Café')
  })
})
