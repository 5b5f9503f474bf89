/**
 * Association negotiation, as pure functions (PS3.8 §9.3.2–9.3.3, PS3.7
 * Annex D.3.3.4): which calling AEs are admitted, which presentation
 * contexts the SCP accepts and in which transfer syntax, and which contexts
 * the SCU proposes. The SCP keeps compressed data as sent (bit-stream), so it
 * prefers a compressed syntax when the sender proposes one.
 */
import {
  COMPRESSED_RETRIEVE_CLASSES, COMPRESSED_RETRIEVE_SYNTAXES, FIND_MODELS, GET_MODELS, MOVE_MODELS, STORABLE_SYNTAXES,
  STORAGE_SOP_CLASSES, SopClass, TransferSyntax
} from './uids.js'

/** PS3.8 Table 9-21: A-ASSOCIATE-RJ result, source, reason. */
export const Reject = {
  calledAeNotRecognized: [1, 1, 7],
  callingAeNotRecognized: [1, 1, 3],
  localLimitExceeded: [2, 3, 2],
  noReason: [1, 1, 1]
} as const satisfies Record<string, readonly [number, number, number]>

/** PS3.8 Table 9-18: presentation context results. */
export const ContextResult = { accept: 0, abstractSyntaxNotSupported: 3, transferSyntaxesNotSupported: 4 } as const

export interface AdmissionInput {
  calledAeTitle: string
  callingAeTitle: string
  ourAeTitle: string
  allowedCallingAeTitles: readonly string[]
  activeAssociations: number
  maxAssociations: number
}

/** Why an association is refused, or undefined to accept it. */
export function admission (a: AdmissionInput): readonly [number, number, number] | undefined {
  if (a.calledAeTitle.trim() !== a.ourAeTitle.trim()) return Reject.calledAeNotRecognized
  if (a.allowedCallingAeTitles.length > 0 && !a.allowedCallingAeTitles.some(t => t.trim() === a.callingAeTitle.trim())) {
    return Reject.callingAeNotRecognized
  }
  if (a.activeAssociations > a.maxAssociations) return Reject.localLimitExceeded
  return undefined
}

/** Storage SOP classes live under 1.2.840.10008.5.1.4.1.1 (PS3.4 Table B.5-1); we accept all of them. */
export function isStorageClass (uid: string): boolean {
  return STORAGE_SOP_CLASSES.includes(uid) || uid.startsWith('1.2.840.10008.5.1.4.1.1.')
}

const SERVICE_CLASSES = new Set<string>([SopClass.Verification, ...FIND_MODELS, ...GET_MODELS, ...MOVE_MODELS])

export type ContextDecision = { result: 0, transferSyntax: string } | { result: 3 | 4 }

/**
 * The SCP's answer to one proposed presentation context. Storage contexts
 * take the first syntax the sender proposes that we can store: senders list
 * their data's own syntax first when they want it sent unconverted. Query
 * and verification contexts take explicit, then implicit little endian.
 */
export function acceptContext (abstractSyntax: string, proposed: readonly string[]): ContextDecision {
  const storage = isStorageClass(abstractSyntax)
  if (!storage && !SERVICE_CLASSES.has(abstractSyntax)) return { result: ContextResult.abstractSyntaxNotSupported }
  if (storage) {
    const first = proposed.find(ts => STORABLE_SYNTAXES.has(ts))
    if (first !== undefined) return { result: 0, transferSyntax: first }
    return { result: ContextResult.transferSyntaxesNotSupported }
  }
  for (const ts of [TransferSyntax.ExplicitLittle, TransferSyntax.ImplicitLittle]) if (proposed.includes(ts)) return { result: 0, transferSyntax: ts }
  return { result: ContextResult.transferSyntaxesNotSupported }
}

export interface Proposal {
  abstractSyntax: string
  transferSyntaxes: string[]
  /** SCP role for storage contexts on a C-GET association (PS3.7 §D.3.3.4). */
  scpRole?: boolean
}

/**
 * What a pooled SCU association to the PACS proposes: verification,
 * query/retrieve, and storage contexts in the SCP role for C-GET: every class
 * uncompressed, the main image classes once per compressed syntax as well
 * (one context accepts one syntax, so each needs its own), within the 128
 * contexts allowed (odd ids 1–255).
 */
export function retrieveProposal (): Proposal[] {
  const plain = [TransferSyntax.ExplicitLittle, TransferSyntax.ImplicitLittle]
  const out: Proposal[] = [{ abstractSyntax: SopClass.Verification, transferSyntaxes: plain }]
  for (const model of [...FIND_MODELS, ...GET_MODELS, ...MOVE_MODELS]) out.push({ abstractSyntax: model, transferSyntaxes: plain })
  for (const cls of STORAGE_SOP_CLASSES) out.push({ abstractSyntax: cls, transferSyntaxes: [...plain, TransferSyntax.ExplicitBig], scpRole: true })
  for (const cls of COMPRESSED_RETRIEVE_CLASSES) {
    for (const ts of COMPRESSED_RETRIEVE_SYNTAXES) out.push({ abstractSyntax: cls, transferSyntaxes: [ts], scpRole: true })
  }
  return out.slice(0, 128)
}

/**
 * Contexts to send stored instances (C-MOVE sub-operations, `store`): for
 * each SOP class, one context per stored syntax (sent as is), plus an
 * uncompressed one the peer can always take.
 */
export function storeProposal (instances: ReadonlyArray<{ sopClassUid: string, transferSyntaxUid: string }>): Proposal[] {
  const out = new Map<string, Proposal>()
  for (const i of instances) {
    const exact = `${i.sopClassUid}|${i.transferSyntaxUid}`
    if (!out.has(exact)) out.set(exact, { abstractSyntax: i.sopClassUid, transferSyntaxes: [i.transferSyntaxUid] })
    const plain = `${i.sopClassUid}|plain`
    if (!out.has(plain) && i.transferSyntaxUid !== TransferSyntax.ExplicitLittle) {
      out.set(plain, { abstractSyntax: i.sopClassUid, transferSyntaxes: [TransferSyntax.ExplicitLittle, TransferSyntax.ImplicitLittle] })
    }
  }
  return [...out.values()].slice(0, 128)
}
