/**
 * A direct encoder and decoder for DIMSE command sets (PS3.7 §9.3, §E.1:
 * group 0000, implicit VR little endian). dcmjs-dimse encodes and parses
 * every command through the general dcmjs writer and reader, about 0.1–0.5 ms
 * a time; a C-GET sub-operation costs three of them (the C-STORE request in,
 * its response out, the pending C-GET response in). A command with an
 * element outside the table falls back to dcmjs-dimse, both ways.
 *
 * This module is a leaf (no dcmjs-dimse): `dimse.ts` installs the decoder.
 */
type Vr = 'UI' | 'US' | 'AE' | 'LO' | 'UL'

/** Command elements by dcmjs keyword: tag and VR (PS3.7 Table E.1-1). */
const ELEMENTS: Readonly<Record<string, readonly [number, Vr]>> = {
  CommandGroupLength: [0x0000, 'UL'],
  AffectedSOPClassUID: [0x0002, 'UI'],
  RequestedSOPClassUID: [0x0003, 'UI'],
  CommandField: [0x0100, 'US'],
  MessageID: [0x0110, 'US'],
  MessageIDBeingRespondedTo: [0x0120, 'US'],
  MoveDestination: [0x0600, 'AE'],
  Priority: [0x0700, 'US'],
  CommandDataSetType: [0x0800, 'US'],
  Status: [0x0900, 'US'],
  ErrorComment: [0x0902, 'LO'],
  ErrorID: [0x0903, 'US'],
  AffectedSOPInstanceUID: [0x1000, 'UI'],
  RequestedSOPInstanceUID: [0x1001, 'UI'],
  NumberOfRemainingSuboperations: [0x1020, 'US'],
  NumberOfCompletedSuboperations: [0x1021, 'US'],
  NumberOfFailedSuboperations: [0x1022, 'US'],
  NumberOfWarningSuboperations: [0x1023, 'US'],
  MoveOriginatorApplicationEntityTitle: [0x1030, 'AE'],
  MoveOriginatorMessageID: [0x1031, 'US']
}

/** The same table by element number (the group is always 0000). */
const BY_ELEMENT: ReadonlyMap<number, readonly [string, Vr]> = new Map(Object.entries(ELEMENTS).map(([k, [el, vr]]) => [el, [k, vr]]))

function value (vr: Vr, v: unknown): Buffer {
  if (vr === 'UL') {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(Number(v) >>> 0)
    return b
  }
  if (vr === 'US') {
    const b = Buffer.alloc(2)
    b.writeUInt16LE(Number(v) & 0xffff)
    return b
  }
  let s = String(v)
  if (s.length % 2 === 1) s += vr === 'UI' ? '\0' : ' '
  return Buffer.from(s, 'latin1')
}

/** The encoded command set, or undefined when an element is not in the table. */
export function encodeCommand (elements: Record<string, unknown>): Buffer | undefined {
  const items: Array<[number, Buffer]> = []
  for (const [k, v] of Object.entries(elements)) {
    if (v === undefined || v === null || k === '_vrMap' || k === 'CommandGroupLength') continue
    const spec = ELEMENTS[k]
    if (spec === undefined || (typeof v !== 'string' && typeof v !== 'number')) return undefined
    items.push([spec[0], value(spec[1], v)])
  }
  items.sort((a, b) => a[0] - b[0])
  const body = items.reduce((n, [, b]) => n + 8 + b.length, 0)
  const out = Buffer.alloc(12 + body)
  out.writeUInt32LE(0x00000000, 0)
  out.writeUInt32LE(4, 4)
  out.writeUInt32LE(body, 8)
  let o = 12
  for (const [element, b] of items) {
    out.writeUInt16LE(0x0000, o)
    out.writeUInt16LE(element, o + 2)
    out.writeUInt32LE(b.length, o + 4)
    b.copy(out, o + 8)
    o += 8 + b.length
  }
  return out
}

/** Strips what dcmjs strips from a string value: trailing NULs, and the spaces its VR pads with. */
function text (vr: Vr, bytes: Buffer, start: number, end: number): string {
  const s = bytes.toString('latin1', start, end)
  if (vr === 'UI') return s.replace(/\0+$/, '')
  return s.trim()
}

/**
 * Elements of an encoded command set, as dcmjs-dimse's reader gives them
 * (naturalized keywords, numbers for US/UL, strings without padding), or
 * undefined for anything this decoder does not know: another group, an
 * element outside the table, a multi-valued or odd-length binary value, a
 * truncated element. The caller then falls back to the general reader.
 */
export function decodeCommand (bytes: Buffer): Record<string, unknown> | undefined {
  // Every element header is 8 bytes; the first must be group 0000.
  if (bytes.length < 8 || bytes.readUInt16LE(0) !== 0x0000) return undefined
  const out: Record<string, unknown> = { _vrMap: {} }
  let o = 0
  while (o < bytes.length) {
    if (o + 8 > bytes.length) return undefined
    if (bytes.readUInt16LE(o) !== 0x0000) return undefined
    const spec = BY_ELEMENT.get(bytes.readUInt16LE(o + 2))
    const length = bytes.readUInt32LE(o + 4)
    const start = o + 8
    const end = start + length
    if (spec === undefined || end > bytes.length) return undefined
    const [keyword, vr] = spec
    if (vr === 'US') {
      if (length !== 2) return undefined
      out[keyword] = bytes.readUInt16LE(start)
    } else if (vr === 'UL') {
      if (length !== 4) return undefined
      out[keyword] = bytes.readUInt32LE(start)
    } else {
      // A backslash would make dcmjs return several values: not ours to guess.
      const s = text(vr, bytes, start, end)
      if (s.includes('\\')) return undefined
      out[keyword] = s
    }
    o = end
  }
  return out
}

/**
 * A command set alone as one P-DATA-TF PDU (PS3.8 §9.3.5 and Annex E.2): the
 * PDU header, one PDV item, its presentation context id, and the message
 * control header "command, last fragment". What dcmjs-dimse's PDU writer
 * produces for a message without a data set (it never fragments a command
 * set either), without its field-by-field buffer and log string.
 */
export function commandPdu (command: Uint8Array, presentationContextId: number): Buffer {
  const pdu = Buffer.allocUnsafe(12 + command.length)
  pdu[0] = 0x04
  pdu[1] = 0
  pdu.writeUInt32BE(6 + command.length, 2)
  pdu.writeUInt32BE(2 + command.length, 6)
  pdu[10] = presentationContextId
  pdu[11] = 0x03
  pdu.set(command, 12)
  return pdu
}
