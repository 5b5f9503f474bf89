import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort } from '../helpers/free-port.js'

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])

describe('freePort for servers that other processes bind later', () => {
  it('hands out distinct ports below the kernel\'s ephemeral range, each bindable', async () => {
    const ports = await Promise.all(Array.from({ length: 40 }, async () => await freePort()))
    expect(new Set(ports).size).toBe(ports.length)
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000)
      expect(port).toBeLessThan(ephemeralStart)
    }
    // Still free: a server binds the first one.
    const s = createServer()
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(ports[0], '127.0.0.1', resolve) })
    await new Promise<void>(resolve => { s.close(() => { resolve() }) })
  })
})
