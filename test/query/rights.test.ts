import { describe, it, expect } from 'vitest'
import {
  DESCRIPTIVE_FIELDS, FIELDS, IDENTIFYING_FIELDS, SCHEMA, checkRights, fieldsOf, lookupField, parse, type QueryNode
} from '../../src/query/index.js'

function refusal (ast: QueryNode): unknown {
  try {
    checkRights(ast, { identified: false })
  } catch (err) {
    return err
  }
  return undefined
}

describe('schema', () => {
  it('splits descriptive and identifying fields as the issue lists them', () => {
    expect(IDENTIFYING_FIELDS).toEqual(['patientID', 'patientName', 'patientBirthDate', 'accessionNumber', 'studyDate', 'institutionName', 'referringPhysician'])
    for (const name of ['lfn', 'site', 'modality', 'bodyPart', 'studyDescription', 'seriesDescription', 'manufacturer', 'rows', 'columns',
      'slices', 'pixelSpacing', 'sliceThickness', 'transferSyntax', 'diagnosisKnown', 'magneticFieldStrength', 'repetitionTime', 'echoTime', 'kvp']) {
      expect(DESCRIPTIVE_FIELDS).toContain(name)
    }
    expect(DESCRIPTIVE_FIELDS.length + IDENTIFYING_FIELDS.length).toBe(SCHEMA.length)
  })

  it('is consistent: unique names and aliases, types, DICOM keywords', () => {
    const names = SCHEMA.flatMap(f => [f.name, ...f.aliases].map(n => n.toLowerCase()))
    expect(new Set(names).size).toBe(names.length)
    for (const f of SCHEMA) {
      expect(FIELDS.get(f.name)).toBe(f)
      expect(['string', 'enum', 'number', 'date', 'boolean']).toContain(f.type)
      expect(f.name).toMatch(/^[a-z][A-Za-z]*$/)
      expect(f.caseInsensitive).toBe(f.type === 'enum' || f.name === 'patientName' || f.name === 'referringPhysician')
      if (f.dicom !== undefined) expect(f.dicom).toMatch(/^[A-Z][A-Za-z]*$/)
      expect(Object.isFrozen(f)).toBe(true)
    }
    expect(Object.isFrozen(SCHEMA)).toBe(true)
  })

  it('looks names up in any case and through aliases', () => {
    expect(lookupField('PATIENTID')?.name).toBe('patientID')
    expect(lookupField('date')?.name).toBe('studyDate')
    expect(lookupField('StudyType')?.name).toBe('studyDescription')
    expect(lookupField('toString')).toBeUndefined()
    expect(lookupField('__proto__')).toBeUndefined()
  })
})

describe('checkRights', () => {
  it('lets descriptive queries through without the right', () => {
    expect(() => { checkRights(parse('modality = "MR" AND bodyPart = "HEART" AND diagnosisKnown AND NOT rows < 128'), { identified: false }) }).not.toThrow()
  })

  it('refuses identifying fields without an identified-read right, naming them', () => {
    const err = refusal(parse('WHERE patientID="MR X" AND date="14May2003"'))
    expect(err).toMatchObject({ name: 'IdentifyingFieldError', fields: ['patientID', 'studyDate'] })
    expect((err as Error).message).toBe('identifying fields patientID, studyDate need an identified-read right')
  })

  it('finds identifying fields anywhere: under NOT, OR, BETWEEN, IN, LIKE', () => {
    expect(refusal(parse('modality = "MR" OR NOT (rows = 1 AND patientName LIKE "DOE*")'))).toMatchObject({ fields: ['patientName'] })
    expect(refusal(parse('patientBirthDate BETWEEN "19500101" AND "19600101"'))).toMatchObject({ fields: ['patientBirthDate'] })
    expect(refusal(parse('accessionNumber IN ("A1", "A2")'))).toMatchObject({ fields: ['accessionNumber'] })
    expect(refusal(parse('NOT institutionName = "X" AND NOT referringPhysician = "Y"'))).toMatchObject({ fields: ['institutionName', 'referringPhysician'] })
  })

  it('accepts them with the right', () => {
    expect(() => { checkRights(parse('patientID = "MR X" AND modality = "MR"'), { identified: true }) }).not.toThrow()
  })

  it('fails closed on a field the schema does not know (a hand-built AST)', () => {
    const forged = { type: 'compare', field: 'patientAddress', op: '=', value: 'x' } as QueryNode
    expect(refusal(forged)).toMatchObject({ name: 'IdentifyingFieldError', fields: ['patientAddress'] })
  })
})

describe('fieldsOf', () => {
  it('lists the canonical fields a query reads, sorted, once each', () => {
    expect(fieldsOf(parse('date = "14May2003" AND (modality = "MR" OR modality IN ("CT")) AND NOT rows BETWEEN 1 AND 2 AND bodyPart LIKE "H*"')))
      .toEqual(['bodyPart', 'modality', 'rows', 'studyDate'])
    expect(fieldsOf(parse('diagnosisKnown'))).toEqual(['diagnosisKnown'])
  })
})
