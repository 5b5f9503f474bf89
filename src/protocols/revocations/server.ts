/**
 * The receiving side of `/dm2/revocations/1.0.0`: read one push frame, hand
 * each notice to the revocation set (which verifies it), answer with one code
 * per notice, and report the new ones for forwarding. A bad or oversized
 * frame gets INVALID (or an aborted stream) and changes nothing.
 */
import type { Connection, Logger, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import type { Status } from '../status.js'
import { MAX_CONCURRENT_HANDLERS, MAX_FRAME_BYTES } from './constants.js'
import { decodePush, encodeResult, resultCode } from './frames.js'
import type { RevocationSet, RevocationStats } from './types.js'

export interface RevocationServerInit {
  store: RevocationSet
  stats: RevocationStats
  log: Logger
  timeoutMs: number
  maxConcurrent?: number
  /** Called with the notices that were new, and the peer they came from. */
  onFresh: (notices: Uint8Array[], from: Connection['remotePeer']) => void
}

export class RevocationServer {
  private readonly init: RevocationServerInit
  private active = 0

  constructor (init: RevocationServerInit) {
    this.init = init
  }

  readonly handle = async (stream: Stream, connection: Connection): Promise<void> => {
    const { stats, log, timeoutMs } = this.init
    const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
    const reply = async (status: Status, results: string[], reason?: string): Promise<void> => {
      await lp.write(encodeResult(reason === undefined ? { status, results } : { status, reason, results }), { signal: AbortSignal.timeout(timeoutMs) })
      await stream.close({ signal: AbortSignal.timeout(timeoutMs) })
    }
    let counted = false
    try {
      const frame = await lp.read({ signal: AbortSignal.timeout(timeoutMs) })
      let notices: Uint8Array[]
      try {
        notices = decodePush(frame.subarray())
      } catch (err) {
        stats.invalidFrames++
        log('invalid revocation push from %p: %s', connection.remotePeer, (err as Error).message)
        await reply('INVALID', [], 'MALFORMED')
        return
      }
      if (this.active >= (this.init.maxConcurrent ?? MAX_CONCURRENT_HANDLERS)) {
        stats.busy++
        await reply('BUSY', [])
        return
      }
      counted = true
      this.active++
      const results: string[] = []
      const fresh: Uint8Array[] = []
      for (const notice of notices) {
        stats.received++
        try {
          if (await this.init.store.add(notice)) {
            stats.accepted++
            fresh.push(notice)
            results.push('NEW')
          } else {
            results.push('KNOWN')
          }
        } catch (err) {
          stats.refused++
          const code = resultCode((err as { reason?: unknown }).reason)
          log('refused a revocation from %p: %s', connection.remotePeer, code)
          results.push(code)
        }
      }
      // Forwarding does not depend on the sender staying to read our answer.
      if (fresh.length > 0) this.init.onFresh(fresh, connection.remotePeer)
      const refused = results.find(r => r !== 'NEW' && r !== 'KNOWN')
      await reply(refused === undefined ? 'OK' : 'INVALID', results, refused)
    } catch (err) {
      // Oversized length prefix, timeout, reset: drop this stream, keep serving.
      if ((err as Error).name.startsWith('InvalidDataLength')) stats.invalidFrames++
      log('revocation stream from %p aborted: %s', connection.remotePeer, (err as Error).name)
      stream.abort(err as Error)
    } finally {
      if (counted) this.active--
    }
  }
}
