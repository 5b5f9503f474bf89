/** The SCP survives hostile peers: oversized PDUs, garbage, silence. */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/tmp.js'
import { openDicomEdge, type Edge } from './helpers/edge.js'
import { runTool } from './helpers/tools.js'

async function sendRaw (port: number, bytes: Buffer): Promise<'closed'> {
  return await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.write(bytes) })
    s.on('close', () => { resolve('closed') })
    s.on('error', () => {})
    setTimeout(() => { s.destroy(); reject(new Error('the SCP kept the connection open')) }, 10_000)
  })
}

describe('SCP under hostile input', () => {
  let tmp: { path: string, remove: () => Promise<void> }
  let edge: Edge

  beforeAll(async () => {
    tmp = await tempDir('dm2-guard-')
    edge = await openDicomEdge({ dir: tmp.path, options: { associationTimeoutMs: 1000, pduTimeoutMs: 1000 } })
  })
  afterAll(async () => {
    await edge?.close()
    await tmp?.remove()
  })

  it('closes a connection announcing an oversized PDU, before buffering it', async () => {
    const header = Buffer.alloc(6)
    header.writeUInt8(0x04, 0)
    header.writeUInt32BE(0x7fffffff, 2)
    expect(await sendRaw(edge.scp.port, Buffer.concat([header, Buffer.alloc(1000)]))).toBe('closed')
  })

  it('closes a connection sending an unknown PDU type', async () => {
    expect(await sendRaw(edge.scp.port, Buffer.from([0x09, 0, 0, 0, 0, 2, 1, 2]))).toBe('closed')
  })

  it('closes a silent connection after the association timeout', async () => {
    expect(await sendRaw(edge.scp.port, Buffer.alloc(0))).toBe('closed')
  })

  it('keeps serving', async () => {
    expect((await runTool('echoscu', ['-aec', 'DM2', '127.0.0.1', String(edge.scp.port)])).code).toBe(0)
    expect(edge.scp.activeAssociations).toBeLessThanOrEqual(1)
  })
})
