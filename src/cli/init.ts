/** `dm2 init <dir> --name <hospital>`: writes a hospital's config and identity. */
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import {
  CONFIG_FILE_NAME, DEFAULT_DICOM_AE_TITLE, DEFAULT_DICOM_HOST, DEFAULT_DICOM_PORT, DEFAULT_LISTEN_HOST,
  DEFAULT_LISTEN_PORT, IDENTITY_FILE_NAME
} from '../config/defaults.js'
import { validateConfig } from '../config/load.js'
import { loadOrCreateIdentity } from '../node/identity.js'
import { parsePort } from './options.js'

interface InitOptions {
  name: string
  host: string
  port: number
  aeTitle: string
  dicomPort: number
  force?: boolean
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

export function registerInit (program: Command): void {
  program.command('init')
    .description('create a hospital: writes <dir>/dm2.json and a new node identity beside it')
    .argument('<dir>', 'folder of the hospital (created if missing)')
    .requiredOption('--name <hospital>', 'name of the hospital')
    .option('--host <ip>', 'address the node listens on', DEFAULT_LISTEN_HOST)
    .option('--port <n>', 'libp2p TCP port', parsePort, DEFAULT_LISTEN_PORT)
    .option('--ae-title <title>', 'AE title of the node as a DICOM server', DEFAULT_DICOM_AE_TITLE)
    .option('--dicom-port <n>', 'DICOM port of the node', parsePort, DEFAULT_DICOM_PORT)
    .option('--force', 'overwrite an existing dm2.json (the identity is always kept)')
    .action(async (dir: string, opts: InitOptions) => {
      const root = resolve(dir)
      const configFile = join(root, CONFIG_FILE_NAME)
      if (!opts.force && await exists(configFile)) {
        throw new Error(`${configFile} already exists (use --force to overwrite it)`)
      }
      const raw = {
        name: opts.name,
        dataDir: '.',
        listen: [`/ip4/${opts.host}/tcp/${opts.port}`],
        bootstrap: [] as string[],
        members: [] as string[],
        dicom: { aeTitle: opts.aeTitle, host: DEFAULT_DICOM_HOST, port: opts.dicomPort }
      }
      // Validate before anything is written: a bad name or AE title leaves no trace.
      validateConfig(raw, 'dm2 init')
      await mkdir(root, { recursive: true, mode: 0o700 })
      const identity = await loadOrCreateIdentity(join(root, IDENTITY_FILE_NAME))
      raw.members.push(identity.peerId.toString())
      await writeFile(configFile, JSON.stringify(raw, null, 2) + '\n', { mode: 0o600 })
      console.log(`hospital:  ${opts.name}`)
      console.log(`config:    ${configFile}`)
      console.log(`identity:  ${join(root, IDENTITY_FILE_NAME)} (${identity.created ? 'new' : 'kept'})`)
      console.log(`peer id:   ${identity.peerId.toString()}`)
      console.log(`address:   /ip4/${opts.host}/tcp/${opts.port}/p2p/${identity.peerId.toString()}`)
      console.log('Give the peer id and address to the other member sites; add theirs to "members" and "bootstrap".')
    })
}
