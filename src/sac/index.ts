/**
 * Semantic access certificates (paper §4.3): the pure access-control core.
 * No I/O here: protocol handlers, the revocation store and the audit log plug
 * in through small interfaces.
 *
 * - `envelope.ts` — the signed envelope every signed record in DM² uses
 *   (certificates, invocations, revocations, roster, DHT records, manifests):
 *   deterministic CBOR (`cbor.ts`, `canonical.ts`, `envelope-fast.ts`), a
 *   per-type signing context (`record-types.ts`; other areas add theirs with
 *   `defineRecordType`), strict Ed25519 (`ed25519.ts`), ids over the signed
 *   payload, never over the signature.
 * - `sac.ts`, `selector.ts`, `abilities.ts`, `attenuate.ts`, `membership.ts` —
 *   certificates, resources, abilities, delegation by attenuation, group
 *   memberships; `validate.ts` is their strict payload validation.
 * - `chain.ts` — offline chain verification, with the verified-record cache
 *   (`cache.ts`) and an injected revocation checker `{ isRevoked(id) }`.
 * - `invocation.ts` — signed, short-lived, single-use requests and the replay cache.
 * - `access.ts` — `AccessControl.check()`: the one call every protocol handler
 *   makes; returns allow, or deny with one of `REASON_CODES` (errors.ts), and
 *   feeds every decision to an audit sink `{ record(decision) }`.
 * - `bundle.ts` — invocation + chain + memberships as one frame on the wire.
 *
 * Times in certificates are Unix seconds; clocks and decisions use ms.
 *
 * @example
 * ```ts
 * import { accessControl, delegate, generateSigner, hashArguments, issueCertificate, createInvocation } from './index.js'
 *
 * const patient = generateSigner()
 * const doctor = generateSigner()
 * const now = Date.now()
 * const s = Math.floor(now / 1000)
 * // The patient lets a doctor read (de-identified) chest CTs for a year, and pass that on once.
 * const root = issueCertificate({
 *   audience: doctor.publicKey,
 *   resource: { selector: { modality: ['CT'], bodyPart: ['CHEST'] } },
 *   abilities: ['image/read', 'delegate'],
 *   notBefore: s, expiry: s + 365 * 86400, depth: 1, purpose: 'TREAT'
 * }, patient)
 * const resident = generateSigner()
 * const child = delegate(root, { audience: resident.publicKey, abilities: ['image/read'], expiry: s + 7 * 86400 }, doctor)
 *
 * // On the hospital node serving the image:
 * const ac = accessControl({ serverPeer: '12D3KooWServer', audit: { record: d => { console.log(d.allow) } } })
 * const args = hashArguments({ lfn: 'lfn-123' })
 * const invocation = createInvocation({
 *   audience: '12D3KooWServer', origin: '12D3KooWClient', command: 'image/get', args, proof: child.id, now
 * }, resident)
 * const decision = await ac.check({
 *   invocation: invocation.bytes,
 *   chain: [root.bytes, child.bytes],
 *   command: 'image/get',
 *   args,
 *   resource: { owner: patient.publicKey, contentId: 'bafy-example', lfn: 'lfn-123', modality: 'CT', bodyPart: 'CHEST' },
 *   ability: 'image/read',
 *   remotePeer: '12D3KooWClient'
 * })
 * // decision.allow === true; a second check with the same invocation is denied with reason 'REPLAY'.
 * ```
 */
export * from './errors.js'
export * from './constants.js'
export { ABILITIES, abilityClosure, abilitiesBeyond, grants, type Ability } from './abilities.js'
export { decodeCanonical, encodeCanonical, type CborValue } from './cbor.js'
export {
  checkPublicKey, checkSignature, checkSignatureReference, clearKeyCache, generateSigner, keyId, nobleSignerFromSeed,
  signerFromSeed, verifySignature, SMALL_ORDER_KEYS, type SeededSigner, type Signer, type SignatureCheck
} from './ed25519.js'
export {
  defineRecordType, lookupRecordType, DHT_RECORD, INVOCATION_RECORD, MANIFEST_RECORD, MEMBERSHIP_RECORD,
  REVOCATION_RECORD, ROSTER_RECORD, SAC_RECORD, type RecordType
} from './record-types.js'
export {
  decodeEnvelope, encodeEnvelope, peekRecordId, recordId, signRecord, signedMessage, verifyRecord,
  type Envelope, type VerifiedRecord
} from './envelope.js'
export {
  MODALITIES, isDicomDate, normalizeSelector, parseDescriptor, parseResource, parseSelector, resourceMatches,
  resourceWiderThan, selectorMatches, selectorWiderThan, type DateRange, type Modality, type Resource, type ResourceDescriptor, type Selector
} from './selector.js'
export {
  certificatePayload, certificateToJSON, issueCertificate, openCertificate, parseSacPayload,
  type Audience, type Certificate, type CertificateFields, type SacPayload
} from './sac.js'
export { delegate, linkProblem, type LinkProblem, type Narrowing } from './attenuate.js'
export { issueMembership, openMembership, parseMembershipPayload, type Membership, type MembershipFields, type MembershipPayload } from './membership.js'
export { VerifiedCache, type CacheStats } from './cache.js'
export {
  mayRevoke, openCertificateCached, timeProblem, verifyChain,
  type ChainFailure, type ChainOptions, type ChainResult, type RevocationChecker, type VerifiedChain
} from './chain.js'
export {
  checkInvocation, createInvocation, hashArguments, openInvocation, parseInvocationPayload, ReplayCache,
  type Invocation, type InvocationPayload, type InvocationContext, type InvocationFields, type InvocationResult
} from './invocation.js'
export {
  AccessControl, accessControl, assertAllowed,
  type AccessControlInit, type AccessRequest, type AllowDecision, type AuditSink, type Decision, type DecisionBase, type DenyDecision
} from './access.js'
export { decodeAuthorization, encodeAuthorization, type Authorization } from './bundle.js'
// Revocation set, federation roster and key files (issue 5, second part).
export {
  createRevocation, openRevocation, RevocationRefusedError, RevocationStore, MAX_REVOCATION_NOTICE_BYTES, REVOCATION_REASONS,
  type RevocationDb, type RevocationFields, type RevocationPayload, type RevocationReason, type RevocationStoreInit,
  type StoredRevocation, type VerifiedRevocation
} from './revocation-store.js'
export {
  createRoster, decodeRosterPayload, encodeRosterPayload, formatRosterFile, LiveRoster, normalizeRoster, openRoster, openRosterFile,
  parseRosterFile, parseRosterPayload, rosterMembers, RosterError, signedBy, signRoster, withSite, MAX_AUTHORITIES, MAX_ROSTER_SITES,
  ROSTER_FILE_FORMAT, ROSTER_ROLES, type AuthoritySet, type RosterDirectory, type RosterFile, type RosterPayload, type RosterRole,
  type RosterSite, type VerifiedRoster
} from './roster.js'
export {
  createKeyFile, InsecureKeyFileError, keyFilePath, KeyFileError, listKeyFiles, loadKeyFile, resolveKeyFile, KEY_DIR_MODE,
  KEY_FILE_FORMAT, KEY_FILE_MODE, KEY_LABEL, type KeyFile, type KeyInfo
} from './keys-file.js'
export { coverageProblem, type CoverageProblem } from './coverage.js'
