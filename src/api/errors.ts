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

/** The user holds no certificate chain from a site's custodian granting `ability`; nothing was sent to it. */
export class NoChainError extends Error {
  static override name = 'NoChainError'
  readonly site: string
  readonly ability: string

  constructor (site: string, ability: string) {
    super(`no certificate chain from ${site} grants ${ability}`)
    this.name = 'NoChainError'
    this.site = site
    this.ability = ability
  }
}

/** An option of similar() is out of range (measure, topK, lfn); nothing was sent. */
export class SimilarOptionsError extends Error {
  static override name = 'SimilarOptionsError'
  readonly option: string

  constructor (option: string, problem: string) {
    super(`${option}: ${problem}`)
    this.name = 'SimilarOptionsError'
    this.option = option
  }
}
