/** Errors of the application API. Tests assert on `err.name`. */

/** getImage failed; `step` names where (locate, prepare, fetch, key, decrypt), `cause` why. */
export class GetImageError extends Error {
  static override name = 'GetImageError'
  readonly step: string

  constructor (step: string, cause: unknown) {
    super(`getImage failed at ${step}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    this.name = 'GetImageError'
    this.step = step
  }
}
