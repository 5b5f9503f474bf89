/**
 * The metadata query language (paper §4.5: `WHERE patientID="MR X" AND
 * date="14May2003"`): pure, no I/O. Text → typed AST → canonical AST and
 * text → predicate over metadata records. The federated fan-out, the API and
 * the CLI build on it; the serving site runs `validateQuery` (for a received
 * AST) or `parse`, then `checkRights`, then `compile`/`matches`.
 *
 * - **Syntax** (`parser.ts`): `field op value` with `= != <> < > <= >=`,
 *   `field [NOT] BETWEEN a AND b`, `field [NOT] IN (a, b)`,
 *   `field [NOT] LIKE "prefix*"` (prefix only), a boolean field alone,
 *   `AND`/`OR`/`NOT` (NOT > AND > OR) and parentheses, an optional leading
 *   `WHERE`; keywords and field names in any case; strings in double quotes
 *   with JSON escapes. Dates are DICOM DA `"20030514"` or `"14May2003"`, and
 *   `date = "20030501-20030531"`, `"20030501-"`, `"-20030531"` are DICOM
 *   ranges (PS3.4 C.2.2.2.5).
 * - **Schema** (`schema.ts`): fixed fields, each typed, descriptive or
 *   identifying; `checkRights(ast, { identified })` refuses identifying
 *   fields without an identified-read right.
 * - **AST** (`ast.ts`): plain JSON, canonical values; `normalize` gives the
 *   canonical structure, `toString` the canonical text, and
 *   `parse(toString(ast))` deep-equals `ast`. `canonicalQuery(text)` is the
 *   text of the normalized AST (a cache key); `validateQuery(value)` checks an
 *   AST received from another site.
 * - **Evaluation** (`evaluate.ts`): `matches(ast, record)`, `compile(ast)`;
 *   any predicate on a missing field is false. `fieldsOf(ast)` for cache
 *   invalidation.
 * - **Errors** (`errors.ts`): `QuerySyntaxError`, `UnknownFieldError`,
 *   `QueryTypeError`, `QueryLimitError`, `QueryAstError`,
 *   `IdentifyingFieldError`, all `QueryError`s with a `position`.
 * - **Limits** (`constants.ts`): 4 KiB of text, depth 32, 128 terms, 128
 *   values per IN list.
 *
 * @example
 * ```ts
 * import { parse, normalize, toString, checkRights, compile, fieldsOf } from './src/query/index.js'
 *
 * const ast = parse('WHERE patientID="MR X" AND date="14May2003"')
 * toString(ast)         // 'patientID = "MR X" AND studyDate = "20030514"'
 * fieldsOf(ast)         // ['patientID', 'studyDate']
 * checkRights(ast, { identified: true }) // ok; { identified: false } throws IdentifyingFieldError
 *
 * const comparable = normalize(parse('bodyPart = "heart" and modality in ("MR", "CT") and diagnosisKnown'))
 * toString(comparable)  // 'bodyPart = "HEART" AND diagnosisKnown = true AND modality IN ("CT", "MR")'
 * const match = compile(comparable)
 * match({ lfn: 'a', modality: 'MR', bodyPart: 'HEART', diagnosisKnown: true }) // true
 * match({ lfn: 'b', modality: 'MR', bodyPart: 'HEART' })                       // false: diagnosisKnown missing
 *
 * try { parse('modality = "MR" AND rows > ') } catch (err) {
 *   // QuerySyntaxError, err.position === 27:
 *   // expected a value at position 27
 *   //   modality = "MR" AND rows >
 *   //                              ^
 * }
 * ```
 */
import type { QueryNode } from './ast.js'
import { normalize } from './normalize.js'
import { parse, type ParseOptions } from './parser.js'
import { toString } from './print.js'

export * from './ast.js'
export * from './constants.js'
export * from './errors.js'
export * from './schema.js'
export { parseDate, parseDateRange, recordDate, type DateRange } from './dates.js'
export { parse, type ParseOptions } from './parser.js'
export { toString } from './print.js'
export { normalize } from './normalize.js'
export { validateQuery } from './validate.js'
export { matches, compile, readValue, type MetadataRecord, type RecordValue, type RecordPredicate } from './evaluate.js'
export { fieldsOf, checkRights, type QueryRights } from './rights.js'

/** Parses and normalizes: the canonical AST of a query text. */
export function parseCanonical (query: string, options?: ParseOptions): QueryNode {
  return normalize(parse(query, options))
}

/** The canonical text of a query text: equivalent queries give the same string (a cache key). */
export function canonicalQuery (query: string, options?: ParseOptions): string {
  return toString(parseCanonical(query, options))
}
