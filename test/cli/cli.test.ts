import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { killAllCli, runCli, startCli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

// Each test starts several dm2 processes: room for a loaded machine beyond the default 30 s.
describe('dm2 command line', { timeout: 90_000 }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  beforeEach(async () => { dir = await tempDir() })
  afterEach(async () => {
    killAllCli()
    await dir.remove()
  })

  it('documents every command and its options', async () => {
    const top = await runCli(['--help'])
    expect(top.code).toBe(0)
    for (const command of ['init', 'node', 'federation', 'status']) expect(top.stdout).toContain(command)
    const init = await runCli(['init', '--help'])
    for (const flag of ['--name', '--port', '--host', '--ae-title', '--dicom-port', '--force']) expect(init.stdout).toContain(flag)
    const node = await runCli(['node', '--help'])
    for (const flag of ['--config', '--listen', '--bootstrap', '--data-dir', '--dicom-port', '--ae-title', '--log-level']) expect(node.stdout).toContain(flag)
    const local = await runCli(['federation', 'local', '--help'])
    for (const flag of ['--hospitals', '--dir', '--log-level', '--duration']) expect(local.stdout).toContain(flag)
  })

  it('init writes a config and a private identity; node runs it and stops cleanly on SIGTERM', async () => {
    const home = join(dir.path, 'hospital-a')
    const init = await runCli(['init', home, '--name', 'Hospital A', '--port', '0', '--dicom-port', '0'])
    expect(init.stderr).toBe('')
    expect(init.code).toBe(0)
    const peerId = init.stdout.match(/peer id:\s+(\S+)/)?.[1]
    expect(peerId).toBeDefined()
    const config = JSON.parse(await readFile(join(home, 'dm2.json'), 'utf8'))
    expect(config).toMatchObject({ name: 'Hospital A', dataDir: '.', members: [peerId], dicom: { aeTitle: 'DM2', port: 0 } })
    expect((await stat(join(home, 'identity.key'))).mode & 0o777).toBe(0o600)

    const again = await runCli(['init', home, '--name', 'Hospital A'])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('already exists')

    const node = startCli(['node', '--config', join(home, 'dm2.json'), '--log-level', 'silent'])
    await node.waitForOutput(/listening: \/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    expect(node.stdout).toContain(`peer id:   ${peerId ?? ''}`)
    const status = await runCli(['status', '--config', join(home, 'dm2.json'), '--json'])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      name: 'Hospital A',
      peerId,
      dhtMode: 'server',
      cache: { images: { entries: 0, hits: 0 }, slices: { entries: 0 }, results: { entries: 0 } },
      queue: { running: 0, queued: 0, rejected: 0 }
    })
    const result = await node.stop('SIGTERM')
    expect(result.code).toBe(0)
    expect((await readdir(home)).sort()).toEqual(['cache', 'db', 'dicom', 'dm2.json', 'identity.key', 'registry.key', 'replicas'])
    const stopped = await runCli(['status', '--config', join(home, 'dm2.json')])
    expect(stopped.code).toBe(1)
    expect(stopped.stderr).toContain('no node is running')
  })

  it('an invalid config names the field and creates nothing', async () => {
    const file = join(dir.path, 'dm2.json')
    await writeFile(file, JSON.stringify({ name: 'A', dataDir: 'data', dicom: { port: 'http' } }))
    const result = await runCli(['node', '--config', file])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(file)
    expect(result.stderr).toContain('dicom.port')
    expect(await readdir(dir.path)).toEqual(['dm2.json'])

    const flag = await runCli(['node', '--config', file, '--dicom-port', '99999'])
    expect(flag.code).not.toBe(0)
    expect(flag.stderr).toContain('--dicom-port')

    const bad = await runCli(['init', join(dir.path, 'x'), '--name', 'X', '--ae-title', 'BACK\\SLASH'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('dicom.aeTitle')
    expect(await readdir(dir.path)).toEqual(['dm2.json'])
  })

  it('federation local starts the hospitals, prints who found whom, and exits 0 on Ctrl-C', async () => {
    const root = join(dir.path, 'fed')
    const cli = startCli(['federation', 'local', '--hospitals', '3', '--dir', root])
    await cli.waitForOutput(/federation running/, 60_000)
    expect(cli.stdout).toMatch(/6\/6 lookups succeeded/)
    expect(cli.stdout).toMatch(/hospital-c\s/)
    const result = await cli.stop('SIGINT')
    expect(result.code).toBe(0)
    const entries = (await readdir(root)).sort()
    expect(entries.slice(0, 3)).toEqual(['hospital-a', 'hospital-b', 'hospital-c'])
    // The cardiologist scenario fetched a volume at the last hospital.
    expect(entries.some(e => /^hospital-c-.+\.nii\.gz$/.test(e))).toBe(true)
    expect(cli.stdout).toMatch(/getImage again\s+\d+ ms {2}read from \S+'s own copy, the master judging, auditing and keying the request as ever/)
    // Features indexed in the background at every hospital (2 series each), then the similar cases,
    // ranked at every hospital (two other CTs in a 3-hospital federation).
    expect(cli.stdout).toMatch(/features\s+\d+ ms {2}6 series indexed in the background/)
    expect(cli.stdout).toMatch(/similar\s+\d+ ms {2}2 most similar CTs by correlation ratio, ranked at each hospital: \d\.\d{3} \(hospital-[a-c]\), \d\.\d{3} \(hospital-[a-c]\)$/m)
  })

  it('Ctrl-C while the federation is still forming also exits 0', async () => {
    const root = join(dir.path, 'fed')
    const cli = startCli(['federation', 'local', '--hospitals', '6', '--dir', root])
    await cli.waitForOutput(/hospital-a\s+\/ip4/, 60_000)
    const result = await cli.stop('SIGINT')
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('stopped')
  })
})
