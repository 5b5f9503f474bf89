import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  isDicomDate, normalizeSelector, resourceMatches, resourceWiderThan, selectorMatches, selectorWiderThan
} from '../../src/sac/index.js'
import type { ResourceDescriptor, Selector } from '../../src/sac/index.js'
import { chestCt, headMr, keys } from './fixtures.js'

const ownerA = keys.patient.publicKey
const ownerB = keys.extra.publicKey

/** `parent` with `extra`'s constraints added (an intersection; an empty one keeps the parent's). */
function narrow (parent: Selector, extra: Selector): Selector {
  const child: Selector = {}
  const meet = <T>(p: T[] | undefined, e: T[] | undefined, eq: (a: T, b: T) => boolean): T[] | undefined => {
    if (p === undefined) return e
    if (e === undefined) return p
    const both = p.filter(x => e.some(y => eq(x, y)))
    return both.length > 0 ? both : p
  }
  const same = (a: unknown, b: unknown): boolean => a === b
  const owner = meet(parent.owner, extra.owner, (a, b) => Buffer.from(a).equals(Buffer.from(b)))
  if (owner !== undefined) child.owner = owner
  const modality = meet(parent.modality, extra.modality, same)
  if (modality !== undefined) child.modality = modality
  const bodyPart = meet(parent.bodyPart, extra.bodyPart, same)
  if (bodyPart !== undefined) child.bodyPart = bodyPart
  const studyType = meet(parent.studyType, extra.studyType, same)
  if (studyType !== undefined) child.studyType = studyType
  const from = [parent.date?.from, extra.date?.from].filter((d): d is string => d !== undefined).sort().pop()
  const to = [parent.date?.to, extra.date?.to].filter((d): d is string => d !== undefined).sort()[0]
  if (from !== undefined || to !== undefined) {
    child.date = (from !== undefined && to !== undefined && from > to) ? { ...parent.date } : {}
    if (Object.keys(child.date).length === 0) {
      if (from !== undefined) child.date.from = from
      if (to !== undefined) child.date.to = to
    }
  }
  return normalizeSelector(child)
}

describe('selectors', () => {
  it('match conjunctively over the fixed vocabulary', () => {
    expect(selectorMatches({}, chestCt)).toBe(true)
    expect(selectorMatches({ modality: ['CT'] }, chestCt)).toBe(true)
    expect(selectorMatches({ modality: ['MR'] }, chestCt)).toBe(false)
    expect(selectorMatches({ modality: ['CT'], bodyPart: ['HEAD'] }, chestCt)).toBe(false)
    expect(selectorMatches({ date: { from: '20240101', to: '20240131' } }, chestCt)).toBe(true)
    expect(selectorMatches({ date: { from: '20240116' } }, chestCt)).toBe(false)
    expect(selectorMatches({ date: { to: '20240114' } }, chestCt)).toBe(false)
    expect(selectorMatches({ studyType: ['screening'] }, chestCt)).toBe(false)
    expect(selectorMatches({ owner: normalizeSelector({ owner: [ownerB, ownerA] }).owner ?? [] }, chestCt)).toBe(true)
    expect(selectorMatches({ owner: [ownerB] }, chestCt)).toBe(false)
  })

  it('a constrained field never matches a resource that lacks it', () => {
    const { bodyPart: _b, ...noBodyPart } = chestCt
    expect(selectorMatches({ bodyPart: ['CHEST'] }, noBodyPart)).toBe(false)
    expect(selectorMatches({ modality: ['CT'] }, noBodyPart)).toBe(true)
  })

  it('narrowing: a child may only add constraints', () => {
    const parent: Selector = { modality: ['CT', 'MR'], date: { from: '20200101' } }
    expect(selectorWiderThan({ modality: ['CT'], date: { from: '20230101', to: '20231231' } }, parent)).toBeUndefined()
    expect(selectorWiderThan({ modality: ['CT', 'MR'], date: { from: '20200101' }, bodyPart: ['CHEST'] }, parent)).toBeUndefined()
    expect(selectorWiderThan({ modality: ['CT', 'US'], date: { from: '20200101' } }, parent)).toBe('modality')
    expect(selectorWiderThan({ date: { from: '20200101' } }, parent)).toBe('modality')
    expect(selectorWiderThan({ modality: ['CT'], date: { from: '20190101' } }, parent)).toBe('date')
    expect(selectorWiderThan({ modality: ['CT'] }, parent)).toBe('date')
    expect(selectorWiderThan({ modality: ['CT'], date: { to: '20240101' } }, parent)).toBe('date')
    expect(selectorWiderThan({}, { owner: [ownerA] })).toBe('owner')
  })

  it('resources: files stay files, selectors may narrow to a file of a fitting owner', () => {
    const fileA = { file: { owner: ownerA, contentId: 'bafyfileA' } }
    const fileB = { file: { owner: ownerA, contentId: 'bafyfileB' } }
    expect(resourceWiderThan(fileA, fileA)).toBeUndefined()
    expect(resourceWiderThan(fileB, fileA)).toBe('another file')
    expect(resourceWiderThan({ selector: { modality: ['CT'] } }, fileA)).toBe('a selector under a single file')
    expect(resourceWiderThan(fileA, { selector: { modality: ['CT'] } })).toBeUndefined()
    expect(resourceWiderThan(fileA, { selector: { owner: [ownerB] } })).toBe('a file of another owner')
    expect(resourceMatches(fileA, chestCt)).toBe(true)
    expect(resourceMatches(fileA, headMr)).toBe(false)
    expect(resourceMatches(fileA, { ...chestCt, owner: ownerB })).toBe(false)
  })

  it('DICOM dates are checked against the calendar', () => {
    expect(isDicomDate('20240229')).toBe(true)
    expect(isDicomDate('20230229')).toBe(false)
    expect(isDicomDate('20241301')).toBe(false)
    expect(isDicomDate('2024-01-01')).toBe(false)
  })

  it('property: whenever a child is not wider, everything it matches its parent matches (soundness)', () => {
    const modality = fc.constantFrom('CT', 'MR', 'US', 'PT')
    const bodyPart = fc.constantFrom('CHEST', 'HEAD', 'ABDOMEN')
    const studyType = fc.constantFrom('diagnostic', 'screening')
    const date = fc.integer({ min: 0, max: 30 }).map(d => `202401${String(d + 1).padStart(2, '0')}`)
    const owner = fc.constantFrom(ownerA, ownerB)
    const set = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T[] | undefined> => fc.option(fc.array(a, { minLength: 1, maxLength: 3 }), { nil: undefined })
    const selector: fc.Arbitrary<Selector> = fc.record({
      owner: set(owner),
      modality: set(modality),
      bodyPart: set(bodyPart),
      studyType: set(studyType),
      date: fc.option(fc.tuple(fc.option(date, { nil: undefined }), fc.option(date, { nil: undefined })), { nil: undefined })
    }).map(r => {
      const s: Selector = {}
      if (r.owner !== undefined) s.owner = r.owner
      if (r.modality !== undefined) s.modality = r.modality
      if (r.bodyPart !== undefined) s.bodyPart = r.bodyPart
      if (r.studyType !== undefined) s.studyType = r.studyType
      if (r.date !== undefined && (r.date[0] !== undefined || r.date[1] !== undefined)) {
        s.date = {}
        if (r.date[0] !== undefined) s.date.from = r.date[0]
        if (r.date[1] !== undefined) s.date.to = r.date[1]
      }
      return normalizeSelector(s)
    })
    const descriptor: fc.Arbitrary<ResourceDescriptor> = fc.record({
      owner, contentId: fc.constant('bafyx'), modality, bodyPart, studyType, date
    })
    const resources = fc.array(descriptor, { minLength: 30, maxLength: 30 })
    // Random pairs: whenever the structural check says "not wider", no resource contradicts it.
    fc.assert(fc.property(selector, selector, resources, (child, parent, rs) => {
      if (selectorWiderThan(child, parent) !== undefined) return
      for (const r of rs) {
        if (selectorMatches(child, r)) expect(selectorMatches(parent, r)).toBe(true)
      }
    }), { numRuns: 1000 })
    // Children built by adding constraints to the parent are recognised as narrower, and are.
    fc.assert(fc.property(selector, selector, resources, (parent, extra, rs) => {
      const child = narrow(parent, extra)
      expect(selectorWiderThan(child, parent)).toBeUndefined()
      for (const r of rs) {
        if (selectorMatches(child, r)) expect(selectorMatches(parent, r)).toBe(true)
      }
    }), { numRuns: 500 })
  })
})
