import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { requestKey } from '../../src/cache/request-key.js'
import { affects, couldMatch, dependenciesOf } from '../../src/cache/dependencies.js'

function shuffleKeys (value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map(v => shuffleKeys(v, seed + 1))
  if (typeof value !== 'object' || value === null) return value
  const keys = Object.keys(value)
  const rotated = keys.slice(seed % Math.max(1, keys.length)).concat(keys.slice(0, seed % Math.max(1, keys.length))).reverse()
  return Object.fromEntries(rotated.map(k => [k, shuffleKeys((value as Record<string, unknown>)[k], seed + 1)]))
}

describe('requestKey', () => {
  it('gives equivalent queries the same key', () => {
    const scope = 'sac:1'
    const a = requestKey({ where: { and: [{ field: 'modality', op: '=', value: 'MR' }, { field: 'bodyPart', op: '=', value: 'HEART' }] }, limit: 10 }, scope)
    const b = requestKey({ limit: 10, where: { and: [{ value: 'HEART ', op: '=', field: 'bodyPart' }, { field: 'modality', op: '=', value: ' MR' }] } }, scope)
    expect(a).toBe(b)
    // NFC: é precomposed and decomposed are one value.
    expect(requestKey({ site: 'H\u00f4pital' }, scope)).toBe(requestKey({ site: 'Ho\u0302pital' }, scope))
    expect(requestKey({ n: -0, x: undefined }, scope)).toBe(requestKey({ n: 0 }, scope))
    expect(requestKey({ or: ['b', 'a', 'a'] }, scope)).toBe(requestKey({ or: ['a', 'b'] }, scope))
  })

  it('keeps different queries and different scopes apart', () => {
    const q = { modality: 'MR' }
    expect(requestKey(q, 'sac:1')).not.toBe(requestKey(q, 'sac:2'))
    expect(requestKey(q, 'sac:1')).not.toBe(requestKey({ modality: 'CT' }, 'sac:1'))
    // Array order matters outside and/or/in.
    expect(requestKey({ fields: ['a', 'b'] }, 's')).not.toBe(requestKey({ fields: ['b', 'a'] }, 's'))
    expect(requestKey({ v: '1' }, 's')).not.toBe(requestKey({ v: 1 }, 's'))
    expect(requestKey(JSON.parse('{"__proto__": {"a": 1}}'), 's')).not.toBe(requestKey({}, 's'))
  })

  it('rejects what is not JSON, too deep or unscoped with CacheKeyError', () => {
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = { d: deep }
    for (const [query, scope] of [[{ n: NaN }, 's'], [{ f: () => 1 }, 's'], [new Map(), 's'], [deep, 's'], [{}, ''], [{}, 'x'.repeat(600)], [{ s: 'x'.repeat(70_000) }, 's']] as const) {
      let name = ''
      try { requestKey(query, scope) } catch (err) { name = (err as Error).name }
      expect(name).toBe('CacheKeyError')
    }
  })

  it('property: member order never changes the key', () => {
    fc.assert(fc.property(fc.object({ maxDepth: 3, values: [fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true })] }), fc.nat(10), (query, seed) => {
      expect(requestKey(shuffleKeys(query, seed), 's')).toBe(requestKey(query, 's'))
    }), { numRuns: 200 })
  })
})

describe('dependencies and invalidation matching', () => {
  const mrHeart = { modality: 'MR', bodyPart: 'HEART', site: 'lyon', studyDate: '20030514' }
  const ctHead = { modality: 'CT', bodyPart: 'HEAD', site: 'lyon', studyDate: '20100101' }

  it('matches equality, case-insensitively and conservatively', () => {
    const deps = dependenciesOf({ modality: 'MR', bodyPart: 'HEART' })
    expect(couldMatch(deps, mrHeart)).toBe(true)
    expect(couldMatch(deps, { ...mrHeart, bodyPart: 'heart' })).toBe(true)
    expect(couldMatch(deps, ctHead)).toBe(false)
    // A field the series does not describe cannot rule it out.
    expect(couldMatch(deps, { modality: 'MR' })).toBe(true)
  })

  it('understands and/or/not, comparisons, LIKE and DICOM date ranges', () => {
    const q = {
      where: {
        or: [
          { and: [{ field: 'modality', op: '=', value: 'MR' }, { field: 'studyDate', op: '=', value: '20030101-20031231' }] },
          { and: [{ field: 'site', op: 'LIKE', value: 'gren%' }, { not: { field: 'modality', op: '=', value: 'CT' } }] }
        ]
      }
    }
    const deps = dependenciesOf(q)
    expect(couldMatch(deps, mrHeart)).toBe(true)
    expect(couldMatch(deps, { ...mrHeart, studyDate: '20040101' })).toBe(false)
    // NOT constrains nothing: a CT in grenoble could match (conservative).
    expect(couldMatch(deps, { ...ctHead, site: 'grenoble' })).toBe(true)
    expect(couldMatch(deps, ctHead)).toBe(false)

    const ranged = dependenciesOf({ and: [{ field: 'sliceCount', op: '>', value: 100 }, { field: 'sliceCount', op: '<=', value: '200' }] })
    expect(couldMatch(ranged, { sliceCount: 150 })).toBe(true)
    expect(couldMatch(ranged, { sliceCount: 100 })).toBe(false)
    expect(couldMatch(ranged, { sliceCount: 201 })).toBe(false)
    expect(couldMatch(ranged, { sliceCount: 'many' })).toBe(true)
    expect(couldMatch(dependenciesOf({ field: 'modality', op: '!=', value: 'MR' }), mrHeart)).toBe(false)
    expect(couldMatch(dependenciesOf({ field: 'modality', op: 'in', values: ['CT', 'PT'] }), mrHeart)).toBe(false)
    expect(couldMatch(dependenciesOf({ modality: ['CT', 'MR'] }), mrHeart)).toBe(true)
  })

  it('depends on everything when the query shape is not understood', () => {
    const deps = dependenciesOf({ where: 'modality = "MR"' })
    expect(deps).toEqual({ any: true })
    expect(couldMatch(deps, ctHead)).toBe(true)
    expect(dependenciesOf({ field: 'x', op: 'matches', value: 'y' })).toEqual({ terms: [{}] })
  })

  it('checks a change before and after', () => {
    const deps = dependenciesOf({ modality: 'MR' })
    expect(affects(deps, { fields: ctHead })).toBe(false)
    expect(affects(deps, { fields: ctHead, previous: mrHeart })).toBe(true)
  })
})
