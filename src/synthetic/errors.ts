/** Errors of the synthetic series generator. Tests assert on `err.name`. */

/** An option is out of range or inconsistent (e.g. a degenerate orientation). */
export class SyntheticOptionsError extends Error {
  static override name = 'SyntheticOptionsError'
  readonly option: string

  constructor (option: string, problem: string) {
    super(`synthetic series: ${option}: ${problem}`)
    this.name = 'SyntheticOptionsError'
    this.option = option
  }
}
