/** `writeSeries`: the generated files written into a folder (I/O kept apart from generation). */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateSeries } from './generate.js'
import type { GeneratedSeries } from './generate.js'
import type { SeriesOptions } from './options.js'

/** Writes a generated series (or generates one from options) into `dir`, created if missing. */
export async function writeSeries (dir: string, options: SeriesOptions | GeneratedSeries = {}): Promise<GeneratedSeries> {
  const series = 'files' in options && 'meta' in options ? options : generateSeries(options)
  await mkdir(dir, { recursive: true })
  for (const file of series.files) {
    await writeFile(join(dir, file.name), file.bytes)
  }
  return series
}
