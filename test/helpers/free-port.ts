/**
 * A TCP port for a server that another process binds later (Orthanc, a PACS
 * or hospital process of the simulator, a DCMTK SCP). A port from
 * `listen(0)` is an ephemeral one: between the probe and that later bind,
 * any outgoing connection on the machine may be given it (a simulator run
 * with a few hundred DICOM associations failed so: EADDRINUSE). So the port
 * is taken below the kernel's ephemeral range (Linux
 * `ip_local_port_range`), where neither connections nor `listen(0)` ever
 * land, probed free, and never handed out twice by this process.
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

/** Lowest port handed out: above the well-known and most registered service ports. */
const FIRST_PORT = 20_000
const ATTEMPTS = 64
const handedOut = new Set<number>()

/** The kernel's first ephemeral port (32768 when it cannot be read). */
function ephemeralStart (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > FIRST_PORT ? low : 32_768
  } catch {
    return 32_768
  }
}

async function probe (port: number): Promise<number | undefined> {
  return await new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => { resolve(undefined) })
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port
      s.close(() => { resolve(bound) })
    })
  })
}

/** A TCP port free right now on 127.0.0.1, outside the ephemeral range (see the module doc). */
export async function freePort (): Promise<number> {
  const end = ephemeralStart()
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (end - FIRST_PORT))
    if (handedOut.has(port)) continue
    if (await probe(port) === port) {
      handedOut.add(port)
      return port
    }
  }
  // Everything tried was taken: an ephemeral port, as a last resort.
  const port = await probe(0)
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1')
  handedOut.add(port)
  return port
}
