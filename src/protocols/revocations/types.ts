/** Interfaces of the revocation protocol towards the rest of the node. */

/** The node's revocation set (src/sac/revocation-store.ts's `RevocationStore` is one). */
export interface RevocationSet {
  /**
   * Verifies and stores a notice: true when new, false when already known (or
   * expired). Throws for a refused notice, with a code in `err.reason`.
   */
  add: (notice: Uint8Array) => Promise<boolean>
  /** Everything stored, for the sync that follows a new connection. */
  list: () => Promise<Array<{ notice: Uint8Array }>>
}

export interface RevocationStats {
  /** Notices received from peers. */
  received: number
  /** Of those, new to this node. */
  accepted: number
  /** Of those, refused (forged, malformed, not by an issuer of the chain). */
  refused: number
  /** Pushes that reached a peer (as originator, forwarder or sync). */
  pushed: number
  /** Pushes that failed (peer gone, timeout, busy, queue full). */
  failed: number
  /** Frames refused as undecodable or oversized. */
  invalidFrames: number
  busy: number
}

/** What `publish` did. */
export interface PublishResult {
  /** Whether the revocation was new to this node. */
  fresh: boolean
  /** Connected members it was pushed to, and how many answered. */
  peers: number
  delivered: number
}
