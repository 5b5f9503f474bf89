/**
 * Messages of `/dm2/similarity/1.0.0`, strictly parsed on both sides.
 *
 *   request  { auth, features, measure, topK, requireDiagnosis }
 *   answer   { hits: [{ lfn, score, modality, bodyPart, diagnosis? }] }
 *
 * The invocation is bound to `hashArguments` of the request without `auth`.
 * Canonical CBOR has no floats (src/sac/cbor.ts), so a score travels as its
 * IEEE 754 binary64 bytes, big-endian (8 bytes), and is range-checked.
 */
import { hashArguments } from '../../sac/index.js'
import { isMeasureName, MEASURE_RANGES, type MeasureName } from '../../similarity/index.js'
import { MAX_DIAGNOSIS_CHARS } from '../../similarity/diagnoses.js'
import { ProtocolError } from '../status.js'
import { MAX_QUERY_FEATURES_BYTES, MAX_RESULT_KEY_LENGTH, MAX_RESULT_LFN_LENGTH, MAX_SITE_TOP_K } from './constants.js'
import { SimilarityQueryError } from './errors.js'

/** What a requester asks every site, the same for all. */
export interface SimilarityQuery {
  /** `encodeFeatures()` of the query volume: features only, nothing identifying. */
  features: Uint8Array
  measure: MeasureName
  /** 1…100. */
  topK: number
  /** Rank only series with a known diagnosis. */
  requireDiagnosis: boolean
}

export interface SimilarityRequest extends SimilarityQuery {
  /** `encodeAuthorization()` of an invocation for `similarity` bound to `similarityArguments(query)`. */
  auth: Uint8Array
}

/** One result of one site. */
export interface SiteHit {
  lfn: string
  score: number
  modality: string
  bodyPart: string
  /** Only when the requester's chain grants `meta/read` and the series has one. */
  diagnosis?: string
}

/** The arguments an invocation for `similarity` must be bound to. */
export function similarityArguments (query: SimilarityQuery): Uint8Array {
  const { features, measure, topK, requireDiagnosis } = query
  return hashArguments({ features, measure, topK, requireDiagnosis })
}

/** Checks a query before anything is sent; throws SimilarityQueryError. */
export function checkQuery (query: SimilarityQuery): SimilarityQuery {
  if (!(query.features instanceof Uint8Array) || query.features.length === 0) throw new SimilarityQueryError('features', 'expected encoded features')
  if (query.features.length > MAX_QUERY_FEATURES_BYTES) throw new SimilarityQueryError('features', `larger than ${MAX_QUERY_FEATURES_BYTES} bytes (use a uint16 thumbnail)`)
  if (!isMeasureName(query.measure)) throw new SimilarityQueryError('measure', 'expected ncc, nmi or cr')
  if (!Number.isInteger(query.topK) || query.topK < 1 || query.topK > MAX_SITE_TOP_K) throw new SimilarityQueryError('topK', `expected an integer in [1, ${MAX_SITE_TOP_K}]`)
  if (typeof query.requireDiagnosis !== 'boolean') throw new SimilarityQueryError('requireDiagnosis', 'expected a boolean')
  return { features: query.features, measure: query.measure, topK: query.topK, requireDiagnosis: query.requireDiagnosis }
}

/** Parses a request map from the wire; throws ProtocolError (answered INVALID). */
export function parseRequest (m: Record<string, unknown>): SimilarityRequest {
  if (Object.keys(m).sort().join(',') !== 'auth,features,measure,requireDiagnosis,topK') throw new ProtocolError('unexpected fields')
  if (!(m.auth instanceof Uint8Array)) throw new ProtocolError('bad auth')
  if (!(m.features instanceof Uint8Array) || m.features.length > MAX_QUERY_FEATURES_BYTES) throw new ProtocolError('bad features')
  if (!isMeasureName(m.measure)) throw new ProtocolError('bad measure')
  if (typeof m.topK !== 'number' || !Number.isInteger(m.topK) || m.topK < 1 || m.topK > MAX_SITE_TOP_K) throw new ProtocolError('bad topK')
  if (typeof m.requireDiagnosis !== 'boolean') throw new ProtocolError('bad requireDiagnosis')
  return { auth: m.auth, features: m.features, measure: m.measure, topK: m.topK, requireDiagnosis: m.requireDiagnosis }
}

export function encodeScore (score: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setFloat64(0, score, false)
  return out
}

/** A score from the wire: finite and within the measure's range (a hair of rounding allowed). */
export function decodeScore (bytes: unknown, measure: MeasureName): number {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 8) throw new ProtocolError('bad score')
  const score = new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, false)
  const [lo, hi] = MEASURE_RANGES[measure]
  if (!(score >= lo - 1e-9 && score <= hi + 1e-9)) throw new ProtocolError('score outside the measure\'s range')
  return score
}

export function encodeHits (hits: readonly SiteHit[]): Array<Record<string, unknown>> {
  return hits.map(h => {
    const out: Record<string, unknown> = { lfn: h.lfn, score: encodeScore(h.score), modality: h.modality, bodyPart: h.bodyPart }
    if (h.diagnosis !== undefined) out.diagnosis = h.diagnosis
    return out
  })
}

const PRINTABLE = /^[\x21-\x7e]+$/
const CS = /^[A-Z0-9_ ]*$/

function shortText (value: unknown, max: number, pattern: RegExp, field: string): string {
  if (typeof value !== 'string' || value.length > max || !pattern.test(value)) throw new ProtocolError(`bad ${field}`)
  return value
}

/** Parses a site's answer for `query`; throws ProtocolError on anything unexpected. */
export function parseHits (body: Record<string, unknown>, query: Pick<SimilarityQuery, 'measure' | 'topK'>): SiteHit[] {
  if (Object.keys(body).join(',') !== 'hits' || !Array.isArray(body.hits)) throw new ProtocolError('bad similarity answer')
  if (body.hits.length > query.topK) throw new ProtocolError('more hits than asked for')
  return body.hits.map((value: unknown) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) throw new ProtocolError('bad hit')
    const h = value as Record<string, unknown>
    const keys = Object.keys(h).sort().join(',')
    if (keys !== 'bodyPart,lfn,modality,score' && keys !== 'bodyPart,diagnosis,lfn,modality,score') throw new ProtocolError('bad hit fields')
    const hit: SiteHit = {
      lfn: shortText(h.lfn, MAX_RESULT_LFN_LENGTH, PRINTABLE, 'lfn'),
      score: decodeScore(h.score, query.measure),
      modality: shortText(h.modality, MAX_RESULT_KEY_LENGTH, CS, 'modality'),
      bodyPart: shortText(h.bodyPart, MAX_RESULT_KEY_LENGTH, CS, 'bodyPart')
    }
    if (h.diagnosis !== undefined) {
      if (typeof h.diagnosis !== 'string' || h.diagnosis.length > MAX_DIAGNOSIS_CHARS) throw new ProtocolError('bad diagnosis')
      hit.diagnosis = h.diagnosis
    }
    return hit
  })
}
