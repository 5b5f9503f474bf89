import type { ControlHandler } from '../../control/index.js'
import { RevocationRefusedError } from '../../sac/index.js'

/**
 * Control-channel handlers for `dm2 sac revoke --push`, for the node to
 * register: `revocations.publish` `{ notice: base64 }` and `revocations.list`.
 */
export function revocationControlHandlers (
  service: { publish: (notice: Uint8Array) => Promise<unknown> },
  store: { list: () => Promise<Array<{ target: string, id: string, revoker: string, at: number, reason: string }>> }
): Record<string, ControlHandler> {
  return {
    'revocations.publish': async (params) => {
      const notice = (params as { notice?: unknown } | null)?.notice
      if (typeof notice !== 'string' || notice.length > 64 * 1024 || !/^[A-Za-z0-9+/]*={0,2}$/.test(notice)) throw new RevocationRefusedError('MALFORMED', 'notice must be base64')
      return await service.publish(Uint8Array.from(Buffer.from(notice, 'base64')))
    },
    'revocations.list': async () => (await store.list()).map(({ target, id, revoker, at, reason }) => ({ target, id, revoker, at, reason }))
  }
}
