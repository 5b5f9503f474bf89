/**
 * The messages of `/dm2/query/1.0.0`, checked both ways. Pure.
 *
 * The RPC frames are canonical CBOR, whose data model has no floats; query
 * values and metadata do (pixel spacing 0.7, DICOM DS). So the query AST and
 * the result list travel as JSON text inside the CBOR map, each under a hard
 * size cap, and are checked strictly after `JSON.parse`:
 *
 *   request  { auth: bytes, query: text (JSON AST), identified: bool, limit: int }
 *   answer   { results: text (JSON list of { lfn, fields, identifying? }), truncated: bool }
 */
import {
  DESCRIPTIVE_FIELDS, FIELDS, IDENTIFYING_FIELDS, normalize, readValue, toString,
  type FieldSpec, type Literal, type MetadataRecord, type QueryNode
} from '../../query/index.js'
import { hashArguments } from '../../sac/index.js'
import { ProtocolError } from '../status.js'
import { MAX_LFN_CHARS, MAX_QUERY_JSON_BYTES, MAX_RESULTS, MAX_VALUE_CHARS } from './constants.js'
import type { QueryRecord, QueryResult, SiteAnswer, SiteRequest } from './types.js'

/** The canonical text of a query: what the invocation's arguments bind. */
export function canonicalText (query: QueryNode): string {
  return toString(normalize(query))
}

/** The arguments an invocation for `query` must be bound to. */
export function queryArguments (query: QueryNode, identified: boolean, limit: number): Uint8Array {
  return hashArguments({ query: canonicalText(query), identified, limit })
}

export function encodeRequest (request: SiteRequest): Record<string, unknown> {
  return { auth: request.auth, query: JSON.stringify(request.query), identified: request.identified, limit: request.limit }
}

/** A request as received; the query is parsed JSON, not yet validated (`validateQuery` does that). */
export interface ReceivedRequest {
  auth: Uint8Array
  query: unknown
  identified: boolean
  limit: number
}

/** Checks a request's shape; throws ProtocolError (→ INVALID). */
export function parseRequest (m: Record<string, unknown>): ReceivedRequest {
  if (Object.keys(m).sort().join(',') !== 'auth,identified,limit,query') throw new ProtocolError('unexpected fields')
  if (!(m.auth instanceof Uint8Array)) throw new ProtocolError('bad auth')
  if (typeof m.identified !== 'boolean') throw new ProtocolError('bad identified flag')
  if (typeof m.limit !== 'number' || !Number.isSafeInteger(m.limit) || m.limit < 1 || m.limit > MAX_RESULTS) throw new ProtocolError('bad limit')
  if (typeof m.query !== 'string' || Buffer.byteLength(m.query) > MAX_QUERY_JSON_BYTES) throw new ProtocolError('bad query')
  let query: unknown
  try {
    query = JSON.parse(m.query)
  } catch {
    throw new ProtocolError('query is not JSON')
  }
  return { auth: m.auth, query, identified: m.identified, limit: m.limit }
}

const DESCRIPTIVE_SPECS: readonly FieldSpec[] = DESCRIPTIVE_FIELDS.filter(f => f !== 'lfn').map(f => FIELDS.get(f) as FieldSpec)
const IDENTIFYING_SPECS: readonly FieldSpec[] = IDENTIFYING_FIELDS.map(f => FIELDS.get(f) as FieldSpec)

function canonicalFields (specs: readonly FieldSpec[], record: MetadataRecord): Record<string, Literal> {
  const out: Record<string, Literal> = {}
  for (const spec of specs) {
    const v = readValue(spec, record)
    if (v !== undefined && (typeof v !== 'string' || v.length <= MAX_VALUE_CHARS)) out[spec.name] = v
  }
  return out
}

/** Specs of the fields a query reads, each tagged with the side of a QueryRecord it comes from. */
export function neededFields (fields: readonly string[]): FieldSpec[] {
  return fields.filter(f => f !== 'lfn').map(f => FIELDS.get(f)).filter((s): s is FieldSpec => s !== undefined)
}

/**
 * The raw values a query reads from a record, each from its own side: an
 * identifying name found in `descriptive` is ignored, and identifying fields
 * are read only when `identified`. The query's readers canonicalize them.
 */
export function matchView (record: QueryRecord, needed: readonly FieldSpec[], identified: boolean): MetadataRecord {
  const view: Record<string, MetadataRecord[string]> = { lfn: record.lfn }
  for (const spec of needed) {
    const side = spec.identifying ? (identified ? record.identifying : undefined) : record.descriptive
    if (side !== undefined && Object.hasOwn(side, spec.name)) view[spec.name] = side[spec.name]
  }
  return view
}

/** The result sent for a matching record: every schema field it has, canonical, each from its own side. */
export function resultOf (record: QueryRecord, identified: boolean): QueryResult {
  const fields = canonicalFields(DESCRIPTIVE_SPECS, record.descriptive)
  if (!identified) return { lfn: record.lfn, fields }
  return { lfn: record.lfn, fields, identifying: record.identifying === undefined ? {} : canonicalFields(IDENTIFYING_SPECS, record.identifying) }
}

export function encodeAnswer (results: readonly string[], truncated: boolean): Record<string, unknown> {
  return { results: `[${results.join(',')}]`, truncated }
}

function isPlain (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype
}

const LFN = /^[\x21-\x7e]+$/

function checkValues (v: unknown, allowed: readonly string[], what: string): Record<string, Literal> {
  if (!isPlain(v)) throw new ProtocolError(`${what} is not a map`)
  const out: Record<string, Literal> = {}
  for (const [k, x] of Object.entries(v)) {
    if (!allowed.includes(k) || k === 'lfn') throw new ProtocolError(`${what} has a field outside the schema`)
    const ok = typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)) || (typeof x === 'string' && x.length <= MAX_VALUE_CHARS)
    if (!ok) throw new ProtocolError(`${what} has a bad value`)
    out[k] = x as Literal
  }
  return out
}

/** Checks a site's answer strictly: at most `limit` results, schema fields only, identifying only if asked. */
export function parseAnswer (body: Record<string, unknown>, request: { identified: boolean, limit: number }): SiteAnswer {
  if (Object.keys(body).sort().join(',') !== 'results,truncated') throw new ProtocolError('unexpected answer fields')
  if (typeof body.truncated !== 'boolean' || typeof body.results !== 'string') throw new ProtocolError('bad answer')
  let list: unknown
  try {
    list = JSON.parse(body.results)
  } catch {
    throw new ProtocolError('results are not JSON')
  }
  if (!Array.isArray(list) || list.length > request.limit) throw new ProtocolError('too many results')
  const results = list.map((r: unknown): QueryResult => {
    if (!isPlain(r)) throw new ProtocolError('a result is not a map')
    const keys = Object.keys(r).sort().join(',')
    if (keys !== 'fields,lfn' && !(request.identified && keys === 'fields,identifying,lfn')) throw new ProtocolError('unexpected result fields')
    if (typeof r.lfn !== 'string' || r.lfn.length > MAX_LFN_CHARS || !LFN.test(r.lfn)) throw new ProtocolError('bad lfn')
    const out: QueryResult = { lfn: r.lfn, fields: checkValues(r.fields, DESCRIPTIVE_FIELDS, 'fields') }
    if (r.identifying !== undefined) out.identifying = checkValues(r.identifying, IDENTIFYING_FIELDS, 'identifying')
    return out
  })
  return { results, truncated: body.truncated }
}
