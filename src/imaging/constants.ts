/** Defaults and names of the image pipeline, resolved once with `??`. */

/** The profile id written into manifests: PS3.15 Annex E basic profile applied to what travels. */
export const DEID_PROFILE = 'dm2/nifti-voxels-only/v1'
/** The profile id of the DICOM form: each object through PS3.15 Annex E's Basic Profile (src/privacy/deid). */
export const DICOM_DEID_PROFILE = 'dm2/ps3.15-e1-basic/v1'

/** The transaction (QUD) name of one preparation; logged, so it carries no patient data. */
export const PREPARE_QUERY = 'prepare-image'

/** Service key prefix of the PACS pool: `pacs:<site>` (DESIGN.md; 3 per PACS by default, paper §5). */
export const PACS_SERVICE_PREFIX = 'pacs'

/** Site name used in the PACS service key when none is configured. */
export const DEFAULT_SITE = 'local'

/**
 * Compensation kinds journaled by a preparation (src/tx). Registered once per
 * engine by the pipeline, before `engine.recover()` runs at start-up.
 */
export const COMPENSATION = {
  workDir: 'imaging.workdir.rm',
  image: 'imaging.image.del',
  key: 'imaging.key.del',
  index: 'imaging.index.del',
  slices: 'imaging.slices.evict'
} as const

/** The named steps of a preparation, as `PrepareError.step` and `TransactionError.step.name` give them. */
export const STEPS = ['describe', 'cache', 'build', 'workdir', 'slices', 'assemble', 'deidentify', 'seal', 'sign', 'ready', 'commit', 'publish'] as const
export type PrepareStep = typeof STEPS[number]

/**
 * Slice bytes one preparation keeps in memory after reading them as they
 * arrive (so assembly reads no file twice); beyond, slices are read again
 * from disk. At most as many preparations run at once as the engine admits
 * queries (8 by default): 8 × this at most.
 */
export const EARLY_SLICE_BYTES = 64 * 1024 * 1024

/** Sealed chunk files being written at once while the next chunks are sealed. */
export const CHUNK_WRITES_IN_FLIGHT = 4
