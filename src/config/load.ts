/**
 * Loading a hospital's configuration: the JSON file, then `DM2_*` environment
 * variables, then command-line flags, each overriding the one before; then one
 * validation pass whose errors name the field and where its value came from.
 * Loading never touches the disk beyond reading the file.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ConfigError, ConfigFileError } from './errors.js'
import { hospitalConfigSchema, type HospitalConfigParsed } from './schema.js'

/** A validated configuration with every path made absolute. */
export interface HospitalConfig extends HospitalConfigParsed {
  /** Absolute path of the data directory. */
  dataDir: string
  /** Absolute path of the file the config came from, if any. */
  configFile?: string
  /** Absolute path of the roster file, if any. */
  roster?: string
}

type Kind = 'string' | 'int' | 'list'

/** Environment variables understood by every `dm2` command that loads a config. */
export const ENV_OVERRIDES: Readonly<Record<string, { path: string[], kind: Kind }>> = {
  DM2_NAME: { path: ['name'], kind: 'string' },
  DM2_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  DM2_LISTEN: { path: ['listen'], kind: 'list' },
  DM2_ANNOUNCE: { path: ['announce'], kind: 'list' },
  DM2_BOOTSTRAP: { path: ['bootstrap'], kind: 'list' },
  DM2_MEMBERS: { path: ['members'], kind: 'list' },
  DM2_ROSTER: { path: ['roster'], kind: 'string' },
  DM2_DICOM_AE_TITLE: { path: ['dicom', 'aeTitle'], kind: 'string' },
  DM2_DICOM_HOST: { path: ['dicom', 'host'], kind: 'string' },
  DM2_DICOM_PORT: { path: ['dicom', 'port'], kind: 'int' },
  DM2_PACS_AE_TITLE: { path: ['pacs', 'aeTitle'], kind: 'string' },
  DM2_PACS_HOST: { path: ['pacs', 'host'], kind: 'string' },
  DM2_PACS_PORT: { path: ['pacs', 'port'], kind: 'int' },
  DM2_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' }
}

/** Variables that name no config field but are read elsewhere (never an error). */
const ENV_NOT_CONFIG = new Set(['DM2_CONFIG'])

/** One override: a value for a dotted field, and a name for where it came from. */
export interface ConfigOverride {
  path: string[]
  value: unknown
  source: string
}

export interface LoadConfigOptions {
  /** Path of the JSON file; without it the config is built from overrides alone. */
  file?: string
  /** Environment to read `DM2_*` from; pass `{}` to ignore it. Default: `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Command-line overrides, applied last. */
  overrides?: ConfigOverride[]
  /** Base for a relative `dataDir` when there is no file. Default: `process.cwd()`. */
  cwd?: string
}

function fieldName (path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

function parseEnvValue (name: string, kind: Kind, raw: string): unknown {
  if (kind === 'list') return raw.split(',').map(s => s.trim()).filter(s => s !== '')
  if (kind === 'int') {
    if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`environment ${name}`, name, 'must be a whole number')
    return Number(raw.trim())
  }
  return raw
}

/** Reads the `DM2_*` variables of `env` into overrides; an unknown `DM2_*` name is an error. */
export function envOverrides (env: NodeJS.ProcessEnv): ConfigOverride[] {
  const out: ConfigOverride[] = []
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('DM2_') || raw === undefined || ENV_NOT_CONFIG.has(name)) continue
    const spec = ENV_OVERRIDES[name]
    if (spec === undefined) {
      throw new ConfigError(`environment ${name}`, name, `unknown variable; known: ${Object.keys(ENV_OVERRIDES).join(', ')}`)
    }
    out.push({ path: spec.path, value: parseEnvValue(name, spec.kind, raw), source: `environment ${name}` })
  }
  return out
}

function setPath (target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    const next = node[key]
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1] as string] = value
}

async function readConfigFile (file: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ConfigFileError(file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? 'error'})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new ConfigFileError(file, `not valid JSON: ${(err as Error).message}`)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(file, '', 'must be a JSON object')
  }
  return json as Record<string, unknown>
}

/**
 * Validates a raw config object. `sourceOf` maps a dotted field to where its
 * value came from, so the error names the flag or variable that set it.
 */
export function validateConfig (raw: unknown, defaultSource: string, sourceOf: (field: string) => string | undefined = () => undefined): HospitalConfigParsed {
  const result = hospitalConfigSchema.safeParse(raw)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  if (issue === undefined) throw new ConfigError(defaultSource, '', 'invalid')
  let field = fieldName(issue.path)
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) {
    field = fieldName([...issue.path, issue.keys[0] as string])
  }
  const source = sourceOf(field) ?? sourceOf(field.replace(/\[\d+\]$/, '')) ?? defaultSource
  const problem = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message
  throw new ConfigError(source, field, problem)
}

/** Loads, merges and validates a hospital config. Throws `ConfigError` or `ConfigFileError`. */
export async function loadConfig (options: LoadConfigOptions = {}): Promise<HospitalConfig> {
  const file = options.file === undefined ? undefined : resolve(options.file)
  const raw: Record<string, unknown> = file === undefined ? {} : await readConfigFile(file)
  const sources = new Map<string, string>()
  const overrides = [...envOverrides(options.env ?? process.env), ...(options.overrides ?? [])]
  for (const o of overrides) {
    setPath(raw, o.path, o.value)
    sources.set(o.path.join('.'), o.source)
  }
  const parsed = validateConfig(raw, file ?? 'configuration', f => sources.get(f))
  const base = file === undefined ? (options.cwd ?? process.cwd()) : dirname(file)
  const config: HospitalConfig = { ...parsed, dataDir: resolve(base, parsed.dataDir) }
  if (parsed.roster !== undefined) config.roster = resolve(base, parsed.roster)
  if (file !== undefined) config.configFile = file
  return config
}
