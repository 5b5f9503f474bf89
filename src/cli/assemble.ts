/** `dm2 assemble <dir> -o out.nii.gz`: one series folder → a NIfTI-1 volume and its JSON sidecar. */
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { writeVolume } from '../assembly/index.js'

interface AssembleCliOptions {
  output: string
  sidecar: boolean
  descriptions: boolean
  quiet?: boolean
}

export function registerAssemble (program: Command): void {
  program.command('assemble')
    .description('assemble the slices of one DICOM series into a NIfTI-1 volume (.nii or .nii.gz) with a JSON sidecar')
    .argument('<dir>', 'folder holding the files of one series')
    .requiredOption('-o, --output <file>', 'output volume, ending in .nii or .nii.gz')
    .option('--no-sidecar', 'do not write the JSON sidecar next to the volume')
    .option('--no-descriptions', 'leave SeriesDescription and ProtocolName out of the sidecar')
    .option('-q, --quiet', 'print nothing on success (warnings still go to stderr)')
    .action(async (dir: string, opts: AssembleCliOptions) => {
      const out = resolve(opts.output)
      const { plan, sidecar } = await writeVolume(resolve(dir), out, { sidecar: opts.sidecar, descriptions: opts.descriptions })
      for (const w of plan.warnings) console.error(`warning: ${w.message}`)
      if (opts.quiet === true) return
      const [x, y, z] = plan.dims
      const [sx, sy] = [plan.geometry.pixelSpacing[1], plan.geometry.pixelSpacing[0]]
      console.log(`volume:  ${out}`)
      if (sidecar !== undefined) console.log(`sidecar: ${sidecar}`)
      console.log(`size:    ${x} × ${y} × ${z} voxels, ${sx} × ${sy} × ${Number(plan.geometry.step.toFixed(6))} mm, ${plan.scaling.type}`)
    })
}
