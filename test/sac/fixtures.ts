/** Shared keys, times and builders for the SAC tests. */
import {
  AccessControl, createInvocation, generateSigner, hashArguments, issueCertificate
} from '../../src/sac/index.js'
import type {
  AccessRequest, Ability, Certificate, CertificateFields, Decision, ResourceDescriptor, SeededSigner
} from '../../src/sac/index.js'

/** A fixed "now": 2024-06-01T12:00:00Z. */
export const NOW = Date.UTC(2024, 5, 1, 12, 0, 0)
export const S = NOW / 1000
export const DAY = 86_400

export const SERVER = '12D3KooWServerPeerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
export const CLIENT = '12D3KooWClientPeerBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'

/** Named keys, generated once per test file. */
export const keys = {
  patient: generateSigner(),
  doctor: generateSigner(),
  resident: generateSigner(),
  student: generateSigner(),
  nurse: generateSigner(),
  extra: generateSigner(),
  mallory: generateSigner(),
  clinic: generateSigner(),
  otherClinic: generateSigner(),
  hospital: generateSigner()
}

/** A chest CT of the patient, as the serving node's registry describes it. */
export const chestCt: ResourceDescriptor = {
  owner: keys.patient.publicKey,
  contentId: 'bafyfileA',
  lfn: 'lfn-A',
  modality: 'CT',
  bodyPart: 'CHEST',
  date: '20240115',
  studyType: 'diagnostic'
}

/** Another file of the same patient. */
export const headMr: ResourceDescriptor = {
  owner: keys.patient.publicKey,
  contentId: 'bafyfileB',
  lfn: 'lfn-B',
  modality: 'MR',
  bodyPart: 'HEAD',
  date: '20230310',
  studyType: 'diagnostic'
}

/** Root grant from the patient to the doctor: CT/MR, read + delegate, depth 3, 30 days. */
export function rootGrant (overrides: Partial<CertificateFields> = {}, signer: SeededSigner = keys.patient): Certificate {
  return issueCertificate({
    audience: keys.doctor.publicKey,
    resource: { selector: { modality: ['CT', 'MR'] } },
    abilities: ['delegate', 'image/read', 'meta/read'],
    notBefore: S - DAY,
    expiry: S + 30 * DAY,
    depth: 3,
    purpose: 'TREAT',
    ...overrides
  }, signer)
}

export const ARGS = hashArguments({ lfn: 'lfn-A' })

/** An invocation by `signer` relying on `leaf`, for the fixture server/client. */
export function invoke (signer: SeededSigner, leaf: Certificate | string, opts: { now?: number, audience?: string, origin?: string, command?: string, lifetimeS?: number, args?: Uint8Array } = {}): Uint8Array {
  return createInvocation({
    audience: opts.audience ?? SERVER,
    origin: opts.origin ?? CLIENT,
    command: opts.command ?? 'image/get',
    args: opts.args ?? ARGS,
    proof: typeof leaf === 'string' ? leaf : leaf.id,
    now: opts.now ?? NOW,
    ...(opts.lifetimeS === undefined ? {} : { lifetimeS: opts.lifetimeS })
  }, signer).bytes
}

/** A request for `resource` with `ability`, by the chain's leaf audience `signer`. */
export function request (signer: SeededSigner, chain: Certificate[], extra: Partial<AccessRequest> = {}, ability: Ability = 'image/read', resource: ResourceDescriptor = chestCt): AccessRequest {
  const leaf = chain[chain.length - 1] as Certificate
  return {
    invocation: invoke(signer, leaf),
    chain: chain.map(c => c.bytes),
    command: 'image/get',
    args: ARGS,
    resource,
    ability,
    remotePeer: CLIENT,
    ...extra
  }
}

/** An access controller with a fixed clock and a sink that keeps every decision. */
export function controller (init: Partial<ConstructorParameters<typeof AccessControl>[0]> = {}): { ac: AccessControl, audited: Decision[] } {
  const audited: Decision[] = []
  const ac = new AccessControl({ serverPeer: SERVER, clock: () => NOW, audit: { record: d => { audited.push(d) } }, ...init })
  return { ac, audited }
}

/** Flips one bit of a copy. */
export function flip (bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const out = Uint8Array.from(bytes)
  out[index] = (out[index] as number) ^ (1 << bit)
  return out
}
