/** Defaults of the revocation protocol, in one place. */
import { MAX_REVOCATION_NOTICE_BYTES } from '../../sac/revocation-store.js'

export const REVOCATIONS_PROTOCOL = '/dm2/revocations/1.0.0'

/** Notices in one push frame (a sync after a reconnection sends its set in batches of this size). */
export const MAX_NOTICES_PER_PUSH = 16
/** Largest frame: a full batch of the largest notices, plus CBOR framing. */
export const MAX_FRAME_BYTES = MAX_NOTICES_PER_PUSH * (MAX_REVOCATION_NOTICE_BYTES + 16) + 64
/** Longest refusal code in a result frame. */
export const MAX_RESULT_CODE_LENGTH = 64

/** Inbound/outbound streams of this protocol per connection. */
export const MAX_INBOUND_STREAMS = 4
export const MAX_OUTBOUND_STREAMS = 4
/** Pushes verified at once by a node (each notice costs up to a dozen signature checks); beyond, BUSY. */
export const MAX_CONCURRENT_HANDLERS = 16
/** Pushes waiting for one peer; beyond, new ones are dropped (the next sync on connection catches up). */
export const MAX_QUEUED_PER_PEER = 64

/** Peers a node forwards a new revocation to (the originator pushes to every connected member). */
export const DEFAULT_FORWARD_FANOUT = 8
/** Time allowed for one message (read or write). */
export const MESSAGE_TIMEOUT_MS = 10_000
