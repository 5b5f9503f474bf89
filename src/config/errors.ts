/** Errors of configuration loading. Tests assert on `err.name`. */

/**
 * A configuration value is missing, malformed or inconsistent. `source` names
 * where the value came from (a file path, an environment variable or a flag)
 * and `field` the dotted path of the offending field.
 */
export class ConfigError extends Error {
  static override name = 'ConfigError'
  readonly source: string
  readonly field: string

  constructor (source: string, field: string, problem: string) {
    super(`${source}: ${field === '' ? '(root)' : field}: ${problem}`)
    this.name = 'ConfigError'
    this.source = source
    this.field = field
  }
}

/** The config file cannot be read or is not JSON. */
export class ConfigFileError extends Error {
  static override name = 'ConfigFileError'
  readonly source: string

  constructor (source: string, problem: string) {
    super(`${source}: ${problem}`)
    this.name = 'ConfigFileError'
    this.source = source
  }
}
