/**
 * `dm2`: the command-line front end of a hospital node.
 * Every subcommand lives in its own file and registers itself here.
 */
import '../polyfill.js'
import { Command, CommanderError } from 'commander'
import { registerAssemble } from './assemble.js'
import { registerDeid } from './deid.js'
import { registerDicom } from './dicom.js'
import { registerFederation } from './federation.js'
import { registerInit } from './init.js'
import { registerAudit } from './audit.js'
import { registerClient } from './client.js'
import { registerKeys } from './keys.js'
import { registerNode } from './node.js'
import { registerReplicas } from './replicas.js'
import { registerSac } from './sac.js'
import { registerSimilarity } from './similarity.js'
import { registerStatus } from './status.js'

export function buildProgram (): Command {
  const program = new Command('dm2')
    .description('DM² — a peer-to-peer federation of hospital nodes for medical images')
    .version('0.1.0')
    .showHelpAfterError()
  registerInit(program)
  registerNode(program)
  registerFederation(program)
  registerStatus(program)
  registerClient(program)
  registerSimilarity(program)
  registerReplicas(program)
  registerAssemble(program)
  registerDeid(program)
  registerDicom(program)
  registerKeys(program)
  registerSac(program)
  registerAudit(program)
  return program
}

export async function main (argv: string[] = process.argv): Promise<void> {
  const program = buildProgram().exitOverride()
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode)
    console.error(`dm2: ${(err as Error).message}`)
    process.exit(1)
  }
}

await main()
