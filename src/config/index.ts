/**
 * Hospital configuration: schema, defaults, loading with overrides.
 *
 * @example
 * ```ts
 * import { loadConfig } from './config/index.js'
 * const config = await loadConfig({ file: 'hospital-a/dm2.json' })
 * ```
 */
export * from './defaults.js'
export * from './errors.js'
export { hospitalConfigSchema, type HospitalConfigInput, type HospitalConfigParsed } from './schema.js'
export { loadConfig, validateConfig, envOverrides, ENV_OVERRIDES, type HospitalConfig, type ConfigOverride, type LoadConfigOptions } from './load.js'
