/** `dm2 assemble <dir> -o out.nii.gz`: one series folder → a NIfTI-1 volume and its JSON sidecar. */
import { resolve } from 'node:path'
import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'
import { DEFAULT_GZIP_LEVEL, writeVolume } from '../assembly/index.js'

interface AssembleCliOptions {
  output: string
  sidecar: boolean
  descriptions: boolean
  quiet?: boolean
  gzipLevel?: number
}

function parseGzipLevel (value: string): number {
  if (!/^[0-9]$/.test(value)) throw new InvalidArgumentError('must be 0–9')
  return Number(value)
}

export function registerAssemble (program: Command): void {
  program.command('assemble')
    .description('assemble the slices of one DICOM series into a NIfTI-1 volume (.nii or .nii.gz) with a JSON sidecar')
    .argument('<dir>', 'folder holding the files of one series')
    .requiredOption('-o, --output <file>', 'output volume, ending in .nii or .nii.gz')
    .option('--no-sidecar', 'do not write the JSON sidecar next to the volume')
    .option('--no-descriptions', 'leave SeriesDescription and ProtocolName out of the sidecar')
    .option('--gzip-level <n>', `zlib level for .nii.gz, 0–9 (default ${DEFAULT_GZIP_LEVEL}: fast)`, parseGzipLevel)
    .option('-q, --quiet', 'print nothing on success (warnings still go to stderr)')
    .action(async (dir: string, opts: AssembleCliOptions) => {
      const out = resolve(opts.output)
      const { plan, sidecar } = await writeVolume(resolve(dir), out, { sidecar: opts.sidecar, descriptions: opts.descriptions, gzipLevel: opts.gzipLevel })
      for (const w of plan.warnings) console.error(`warning: ${w.message}`)
      if (opts.quiet === true) return
      const [x, y, z] = plan.dims
      const [sx, sy] = [plan.geometry.pixelSpacing[1], plan.geometry.pixelSpacing[0]]
      console.log(`volume:  ${out}`)
      if (sidecar !== undefined) console.log(`sidecar: ${sidecar}`)
      console.log(`size:    ${x} × ${y} × ${z} voxels, ${sx} × ${sy} × ${Number(plan.geometry.step.toFixed(6))} mm, ${plan.scaling.type}`)
    })
}
