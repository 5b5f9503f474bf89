/**
 * Errors of federated similarity at the requesting side. Remote answers map
 * to the status errors of src/protocols/status.ts; tests assert on `err.name`.
 */

/** A federation query's option is out of range (measure, topK, features size, sites); nothing was sent. */
export class SimilarityQueryError extends Error {
  static override name = 'SimilarityQueryError'
  readonly option: string

  constructor (option: string, problem: string) {
    super(`${option}: ${problem}`)
    this.name = 'SimilarityQueryError'
    this.option = option
  }
}
