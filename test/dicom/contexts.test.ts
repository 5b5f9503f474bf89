import { describe, expect, it } from 'vitest'
import { acceptContext, admission, retrieveProposal, storeProposal } from '../../src/dicom/contexts.js'
import { resolveDicomOptions, DEFAULT_SCU_POOL_SIZE } from '../../src/dicom/constants.js'
import { SopClass, TransferSyntax } from '../../src/dicom/uids.js'

const CT = '1.2.840.10008.5.1.4.1.1.2'
const base = { calledAeTitle: 'DM2', callingAeTitle: 'MODALITY', ourAeTitle: 'DM2', allowedCallingAeTitles: [], activeAssociations: 1, maxAssociations: 4 }

describe('association negotiation', () => {
  it('admits any calling AE unless an allow-list is configured', () => {
    expect(admission(base)).toBeUndefined()
    expect(admission({ ...base, allowedCallingAeTitles: ['CT1', 'MODALITY '] })).toBeUndefined()
    expect(admission({ ...base, allowedCallingAeTitles: ['CT1'] })).toEqual([1, 1, 3])
    expect(admission({ ...base, calledAeTitle: 'OTHER' })).toEqual([1, 1, 7])
    expect(admission({ ...base, activeAssociations: 5 })).toEqual([2, 3, 2])
  })

  it('keeps the sender\'s first storable syntax for storage, little endian for queries', () => {
    expect(acceptContext(CT, [TransferSyntax.J2kLossless, TransferSyntax.ExplicitLittle])).toEqual({ result: 0, transferSyntax: TransferSyntax.J2kLossless })
    expect(acceptContext(CT, ['1.2.3.4', TransferSyntax.ExplicitBig])).toEqual({ result: 0, transferSyntax: TransferSyntax.ExplicitBig })
    expect(acceptContext(CT, ['1.2.3.4'])).toEqual({ result: 4 })
    expect(acceptContext(SopClass.StudyRootFind, [TransferSyntax.ExplicitBig, TransferSyntax.ImplicitLittle])).toEqual({ result: 0, transferSyntax: TransferSyntax.ImplicitLittle })
    expect(acceptContext('1.2.840.10008.3.1.2.3.3', [TransferSyntax.ImplicitLittle])).toEqual({ result: 3 })
    expect(acceptContext('1.2.840.10008.5.1.4.1.1.999', [TransferSyntax.ImplicitLittle])).toEqual({ result: 0, transferSyntax: TransferSyntax.ImplicitLittle })
  })

  it('proposes at most 128 contexts to the PACS, storage ones in the SCP role', () => {
    const p = retrieveProposal()
    expect(p.length).toBeLessThanOrEqual(128)
    expect(p.filter(c => c.abstractSyntax === SopClass.StudyRootGet)).toHaveLength(1)
    const ct = p.filter(c => c.abstractSyntax === CT)
    expect(ct.every(c => c.scpRole === true)).toBe(true)
    expect(ct.map(c => c.transferSyntaxes).flat()).toContain(TransferSyntax.J2kLossless)
  })

  it('proposes each stored syntax as is, with an uncompressed fallback', () => {
    const p = storeProposal([
      { sopClassUid: CT, transferSyntaxUid: TransferSyntax.ExplicitLittle },
      { sopClassUid: CT, transferSyntaxUid: TransferSyntax.Rle },
      { sopClassUid: CT, transferSyntaxUid: TransferSyntax.Rle }
    ])
    expect(p).toEqual([
      { abstractSyntax: CT, transferSyntaxes: [TransferSyntax.ExplicitLittle] },
      { abstractSyntax: CT, transferSyntaxes: [TransferSyntax.Rle] },
      { abstractSyntax: CT, transferSyntaxes: [TransferSyntax.ExplicitLittle, TransferSyntax.ImplicitLittle] }
    ])
  })

  it('resolves options with defaults, keeping explicit zeros', () => {
    const o = resolveDicomOptions({ idleReleaseMs: 0 })
    expect(o.scuPoolSize).toBe(DEFAULT_SCU_POOL_SIZE)
    expect(DEFAULT_SCU_POOL_SIZE).toBe(3)
    expect(o.idleReleaseMs).toBe(0)
    expect(o.allowedCallingAeTitles).toEqual([])
  })
})
