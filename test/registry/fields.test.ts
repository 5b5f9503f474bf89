import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tagOf } from '../../src/dicom/part10/index.js'
import { DESCRIPTIVE, IDENTIFYING, INSTANCE_FIELDS, cleanSeriesDescription, splitAttributes } from '../../src/registry/index.js'

describe('metadata split (PS3.15 Annex E Table E.1-1)', () => {
  it('names only real attributes, and no attribute is both identifying and descriptive', () => {
    for (const k of [...IDENTIFYING, ...DESCRIPTIVE, ...INSTANCE_FIELDS]) {
      if (k === 'TransferSyntaxUID' || k === 'UID') continue
      expect(tagOf(k), k).toBeTypeOf('number')
    }
    const both = [...DESCRIPTIVE].filter(k => IDENTIFYING.has(k))
    expect(both).toEqual(['SeriesDescription'])
  })

  it('keeps patient, physicians, institution, accession and dates out of the descriptive part', () => {
    const s = splitAttributes({
      PatientName: 'Doe^Jane',
      PatientID: 'P123',
      PatientBirthDate: '19700101',
      AccessionNumber: 'A9',
      ReferringPhysicianName: 'House^G',
      InstitutionName: 'General',
      StudyDate: '20240101',
      SeriesDate: '20240101',
      Modality: 'CT',
      BodyPartExamined: 'CHEST',
      SliceThickness: 2.5,
      Rows: 512,
      SeriesDescription: 'Thorax Doe^Jane 20240101 w/contrast',
      PrivateThing: 'x'
    })
    expect(s.descriptive).toEqual({ Modality: 'CT', BodyPartExamined: 'CHEST', SliceThickness: 2.5, Rows: 512, SeriesDescription: 'Thorax w/contrast' })
    expect(s.identifying).toMatchObject({ PatientName: 'Doe^Jane', AccessionNumber: 'A9', InstitutionName: 'General', SeriesDescription: 'Thorax Doe^Jane 20240101 w/contrast' })
    expect(s.identifying).not.toHaveProperty('PrivateThing')
    expect(s.descriptive).not.toHaveProperty('PrivateThing')
  })

  it('never lets an unlisted attribute into the descriptive part', () => {
    const key = fc.oneof(fc.constantFrom(...IDENTIFYING, ...DESCRIPTIVE), fc.string({ minLength: 1, maxLength: 12 }))
    fc.assert(fc.property(fc.dictionary(key, fc.oneof(fc.string(), fc.integer())), attrs => {
      const s = splitAttributes(attrs)
      for (const k of Object.keys(s.descriptive)) expect(DESCRIPTIVE.has(k)).toBe(true)
      for (const k of Object.keys(s.identifying)) expect(IDENTIFYING.has(k)).toBe(true)
    }), { numRuns: 200 })
  })

  it('cleans series descriptions of dates, ids and names', () => {
    expect(cleanSeriesDescription('AX T2 FLAIR')).toBe('AX T2 FLAIR')
    expect(cleanSeriesDescription('CT 12/03/2021 thorax MRN1234567')).toBe('CT thorax')
    expect(cleanSeriesDescription('Smith^John head')).toBe('head')
    expect(cleanSeriesDescription('x'.repeat(100))).toHaveLength(64)
  })
})
