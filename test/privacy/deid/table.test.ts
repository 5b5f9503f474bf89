import { describe, expect, it } from 'vitest'
import { basicAction, resolveAction } from '../../../src/privacy/deid/actions.js'
import { resolveOptions } from '../../../src/privacy/deid/options.js'
import { profileRow, TABLE_E1_1 } from '../../../src/privacy/deid/index.js'

describe('Table E.1-1 data', () => {
  it('has every row of the 2024b table once, keyed by tag', () => {
    expect(TABLE_E1_1.length).toBe(621)
    expect(new Set(TABLE_E1_1.map(r => r.tag)).size).toBe(621)
    for (const r of TABLE_E1_1) expect(r.tag).toMatch(/^([0-9A-Fx]{8}|private)$/)
  })

  it('has the rows a reviewer would check first', () => {
    expect(profileRow('00100010')).toMatchObject({ name: "Patient's Name", vr: 'PN', basic: 'Z' })
    expect(profileRow('00100020')).toMatchObject({ name: 'Patient ID', basic: 'Z/D' })
    expect(profileRow('00080018')).toMatchObject({ basic: 'U', vr: 'UI' })
    expect(profileRow('00020003')).toMatchObject({ name: 'Media Storage SOP Instance UID', basic: 'U' })
    expect(profileRow('00080020')).toMatchObject({ name: 'Study Date', basic: 'Z', options: { longFull: 'K', longModified: 'C' } })
    expect(profileRow('00181000')).toMatchObject({ name: 'Device Serial Number', basic: 'X/Z/D', options: { device: 'K' } })
    expect(profileRow('00081140')).toMatchObject({ name: 'Referenced Image Sequence', basic: 'X/Z/U*' })
    expect(profileRow('00880200')?.name).toBe('Icon Image Sequence')
    // Items dcmjs's anonymizer list misses, e.g. the RT and clinical-trial rows.
    expect(profileRow('300A0002')?.name).toBe('RT Plan Label')
    expect(profileRow('00120010')?.name).toBe('Clinical Trial Sponsor Name')
  })

  it('matches repeating groups and private groups', () => {
    expect(profileRow('60023000')?.name).toBe('Overlay Data')
    expect(profileRow('601E4000')?.name).toBe('Overlay Comments')
    expect(profileRow('50101234')?.name).toBe('Curve Data')
    expect(profileRow('60020010')).toBeUndefined()
    expect(profileRow('00091001')?.tag).toBe('private')
    expect(profileRow('7FE00010')).toBeUndefined()
  })

  it('resolves compound actions to the conformant, non-revealing choice', () => {
    const row = (tag: string): NonNullable<ReturnType<typeof profileRow>> => profileRow(tag) ?? (() => { throw new Error(tag) })()
    expect(basicAction(row('00100020'))).toBe('D') // Z/D
    expect(basicAction(row('00080022'))).toBe('Z') // X/Z
    expect(basicAction(row('00080021'))).toBe('D') // X/D
    expect(basicAction(row('00080080'))).toBe('D') // X/Z/D
    expect(basicAction(row('00081140'))).toBe('R') // X/Z/U*
    const modified = resolveOptions({ secret: new Uint8Array(32), dates: 'modified' })
    expect(resolveAction(row('00080020'), 'DA', modified)).toEqual({ action: 'C', fromOption: true })
    expect(resolveAction(row('00080030'), 'TM', modified)).toEqual({ action: 'K', fromOption: true })
    const device = resolveOptions({ secret: new Uint8Array(32), retainDeviceIdentity: true })
    expect(resolveAction(row('00181000'), 'LO', device)).toEqual({ action: 'K', fromOption: true })
    // C under Retain Device Identity for an AE title is not implemented: the basic D applies.
    expect(resolveAction(row('21000140'), 'AE', device)).toEqual({ action: 'D', fromOption: false })
  })
})
