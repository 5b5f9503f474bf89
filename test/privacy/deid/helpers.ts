/** Shared helpers of the de-identification tests: the sample folder and DCMTK's view of a file. */
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { silenceParserWarnings } from '../../../src/privacy/deid/index.js'

// dcmjs's console warnings ("Invalid vr type ox - using OW") would only clutter the test output.
silenceParserWarnings()

/** `../shared/dicom-samples` relative to the repository root (CI and this machine). */
export const SAMPLES = fileURLToPath(new URL('../../../../shared/dicom-samples', import.meta.url))

/** A fixed site secret for the tests. */
export const SECRET = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff)

export function listFiles (dir: string): string[] {
  return readdirSync(dir).sort().flatMap(name => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })
}

/** Every sample file (not the manifest and checksums), as paths relative to SAMPLES. */
export function sampleFiles (): string[] {
  return listFiles(SAMPLES).map(p => relative(SAMPLES, p)).filter(p => !p.endsWith('.md') && !p.endsWith('SHA256SUMS'))
}

export interface DumpElement { tag: string, vr: string, value: string, depth: number }

export interface Dump {
  status: number | null
  stderr: string
  elements: DumpElement[]
}

const LINE = /^( *)\(([0-9a-f]{4}),([0-9a-f]{4})\) ([A-Za-z]{2}) (.*?)\s+#\s*(?:u\/l|\d+),\s*\d+\s+\S+$/

/**
 * dcmdump's reading of a file (every element at every depth): UIDs as numbers, text converted to
 * UTF-8, long values printed whole, values over 64 KiB (pixel and waveform data) not loaded.
 */
export function dcmdump (file: string, extra: string[] = []): Dump {
  const r = spawnSync('dcmdump', ['-Un', '+L', '+U8', '-M', '+R', '64', ...extra, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.error !== undefined) throw new Error(`dcmdump could not run (is DCMTK installed?): ${r.error.message}`)
  const elements: DumpElement[] = []
  for (const line of r.stdout.split('\n')) {
    const m = LINE.exec(line)
    if (m === null) continue
    const tag = `${m[2] ?? ''}${m[3] ?? ''}`.toUpperCase()
    if (tag.startsWith('FFFE')) continue
    elements.push({ tag, vr: m[4] ?? '', value: m[5] ?? '', depth: (m[1] ?? '').length / 2 })
  }
  return { status: r.status, stderr: r.stderr, elements }
}

/** Whether dcmdump printed an actual value (not empty, not a sequence or item header). */
export function hasValue (e: DumpElement): boolean {
  return e.value !== '' && !e.value.startsWith('(no value') && !e.value.startsWith('(Sequence') &&
    !e.value.startsWith('(Item') && !e.value.startsWith('(PixelSequence') && !e.value.startsWith('(not loaded')
}

/** tag → every value dcmdump printed for it, at any depth. */
export function valuesByTag (dump: Dump): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const e of dump.elements) {
    if (!hasValue(e)) continue
    const set = out.get(e.tag) ?? new Set<string>()
    set.add(e.value)
    out.set(e.tag, set)
  }
  return out
}

/** The top-level value of a tag, without dcmdump's brackets. */
export function topValue (dump: Dump, tag: string): string | undefined {
  const e = dump.elements.find(x => x.tag === tag && x.depth === 0)
  return e === undefined ? undefined : e.value.replace(/^\[/, '').replace(/\]$/, '')
}
