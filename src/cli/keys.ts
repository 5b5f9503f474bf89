/**
 * `dm2 keys new|list`: a person's signing keys (Ed25519), one 0600 file each
 * in `~/.dm2/keys` (or `--dir`, env DM2_KEY_DIR). Hold several for
 * pseudonymity: each key is a separate identity to everyone else.
 */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { createKeyFile, listKeyFiles, resolveKeyFile, type KeyFile } from '../sac/keys-file.js'

/** Where keys live unless `--dir` or DM2_KEY_DIR says otherwise. */
export function defaultKeyDir (): string {
  return process.env.DM2_KEY_DIR ?? join(homedir(), '.dm2', 'keys')
}

export interface KeyDirOptions {
  dir: string
}

/** Adds `--dir` to a command that reads or writes key files. */
export function withKeyDir (command: Command): Command {
  return command.option('--dir <dir>', 'folder of your key files (env DM2_KEY_DIR)', defaultKeyDir())
}

/** A key by label, public-key prefix, or path. */
export async function keyFromRef (opts: KeyDirOptions, ref: string): Promise<KeyFile> {
  return await resolveKeyFile(resolve(opts.dir), ref)
}

/**
 * A public key given as 64 hex digits, or as a key of yours (label, prefix or
 * path) whose public half is meant.
 */
export async function publicKeyFromRef (opts: KeyDirOptions, ref: string): Promise<Uint8Array> {
  if (/^[0-9a-f]{64}$/i.test(ref)) return Uint8Array.from(Buffer.from(ref, 'hex'))
  return (await keyFromRef(opts, ref)).signer.publicKey
}

export function registerKeys (program: Command): void {
  const keys = program.command('keys').description('your signing keys (Ed25519, one 0600 file each; several per person for pseudonymity)')
  withKeyDir(keys.command('new'))
    .description('create a new key')
    .option('--label <label>', 'name of the key file (letters, digits, . _ -); default key-<id>')
    .option('--json', 'print JSON')
    .action(async (opts: KeyDirOptions & { label?: string, json?: boolean }) => {
      const key = await createKeyFile(resolve(opts.dir), opts.label === undefined ? {} : { label: opts.label })
      if (opts.json === true) {
        console.log(JSON.stringify({ label: key.label, publicKey: key.publicKey, created: key.created, path: key.path }, null, 2))
        return
      }
      console.log(`label:       ${key.label}`)
      console.log(`public key:  ${key.publicKey}`)
      console.log(`file:        ${key.path} (mode 600; keep it secret, back it up)`)
    })
  withKeyDir(keys.command('list'))
    .description('list your keys (public halves only)')
    .option('--json', 'print JSON')
    .action(async (opts: KeyDirOptions & { json?: boolean }) => {
      const { keys: found, problems } = await listKeyFiles(resolve(opts.dir))
      for (const p of problems) console.error(`skipped ${p.path}: ${p.error}`)
      if (opts.json === true) {
        console.log(JSON.stringify(found, null, 2))
        return
      }
      if (found.length === 0) {
        console.log(`no keys in ${resolve(opts.dir)} (create one with: dm2 keys new --label <name>)`)
        return
      }
      const width = Math.max(5, ...found.map(k => k.label.length))
      console.log(`${'label'.padEnd(width)}  ${'public key'.padEnd(64)}  created`)
      for (const k of found) console.log(`${k.label.padEnd(width)}  ${k.publicKey}  ${k.created}`)
    })
}
