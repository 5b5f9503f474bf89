import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { commandPdu, decodeCommand, encodeCommand } from '../../src/dicom/command.js'
import { dimse, fastCommand } from '../../src/dicom/dimse.js'

/** dcmjs's own reader, bypassing the direct decoder that dimse.ts installs. */
function dcmjsRead (bytes: Buffer): Record<string, unknown> {
  // A leading element outside group 0000 sends the buffer to dcmjs; drop it from the result.
  const prefix = Buffer.from([0x08, 0x00, 0x16, 0x00, 0x02, 0x00, 0x00, 0x00, 0x31, 0x00])
  const { SOPClassUID: _, ...rest } = new dimse.Dataset(Buffer.concat([prefix, bytes])).getElements()
  return rest
}

describe('DIMSE command encoding', () => {
  it('writes exactly what dcmjs-dimse writes, for requests and responses', () => {
    const req = new dimse.requests.CStoreRequest(new dimse.Dataset({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', SOPInstanceUID: '1.2.3.4.5' }, '1.2.840.10008.1.2.1'))
    req.setMessageId(7)
    const ok = dimse.responses.CStoreResponse.fromRequest(req)
    ok.setStatus(0)
    const bad = dimse.responses.CStoreResponse.fromRequest(req)
    bad.setStatus(0xc000)
    bad.setErrorComment('truncated: element (7FE0,0010)')
    const move = dimse.requests.CMoveRequest.createSeriesMoveRequest('DEST', '1.2', '1.2.3')
    move.setMessageId(65535)
    for (const c of [req, ok, bad, move]) {
      const elements = c.getCommandDataset().getElements()
      expect(encodeCommand(elements)?.equals(c.getCommandDataset().getDenaturalizedCommandDataset())).toBe(true)
    }
  })

  it('falls back to dcmjs-dimse for elements outside its table', () => {
    expect(encodeCommand({ CommandField: 1, OffendingElement: [0x00100010] })).toBeUndefined()
    const rsp = fastCommand(dimse.responses.CEchoResponse.fromRequest(new dimse.requests.CEchoRequest()))
    rsp.getCommandDataset().setElement('OffendingElement', [0x00100010] as unknown as string)
    expect(rsp.getCommandDataset().getDenaturalizedCommandDataset().length).toBeGreaterThan(12)
  })
})

/** The PDUs dcmjs-dimse's own writer sends for `message` on presentation context `pcId`. */
function dcmjsPdus (message: unknown, pcId: number): Buffer[] {
  const sent: Buffer[] = []
  const send = (dimse.Scp.prototype as unknown as { _sendPDataTF: (this: unknown, m: unknown, pc: number, max: number) => void })._sendPDataTF
  send.call({ socket: { write: (b: Buffer) => sent.push(b) }, statistics: { addBytesSent: () => {} }, logId: '' }, message, pcId, 16384)
  return sent
}

describe('DIMSE command PDU', () => {
  it('is byte for byte the PDU dcmjs-dimse writes for a message without a data set', () => {
    const req = new dimse.requests.CStoreRequest(new dimse.Dataset({ SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', SOPInstanceUID: '1.2.3.4.5' }, '1.2.840.10008.1.2.1'))
    req.setMessageId(9)
    const ok = fastCommand(dimse.responses.CStoreResponse.fromRequest(req))
    ok.setStatus(0)
    const failed = fastCommand(dimse.responses.CStoreResponse.fromRequest(req))
    failed.setStatus(0xa700)
    failed.setErrorComment('out of resources')
    const echo = dimse.responses.CEchoResponse.fromRequest(new dimse.requests.CEchoRequest())
    for (const [message, pcId] of [[ok, 1], [failed, 255], [echo, 3]] as const) {
      const bytes = message.getCommandDataset().getDenaturalizedCommandDataset()
      const ours = commandPdu(bytes, pcId)
      expect(dcmjsPdus(message, pcId)).toEqual([ours])
      // P-DATA-TF, PDU length, PDV length, context, "command, last fragment", then the command set.
      expect([ours[0], ours.readUInt32BE(2), ours.readUInt32BE(6), ours[10], ours[11]]).toEqual([0x04, bytes.length + 6, bytes.length + 2, pcId, 0x03])
      expect(decodeCommand(ours.subarray(12))).toEqual(decodeCommand(bytes))
    }
  })
})

describe('received command sets', () => {
  it("are joined from dcmjs-dimse's memory stream whole, in order", async () => {
    const { createRequire } = await import('node:module')
    const memoryStream = createRequire(createRequire(import.meta.url).resolve('dcmjs-dimse'))('memorystream') as { createWriteStream: () => NodeJS.WritableStream & { toBuffer: () => Buffer } }
    const stream = memoryStream.createWriteStream()
    for (const part of [Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from('UID'), Buffer.from([0xff])]) stream.write(part)
    expect(stream.toBuffer()).toEqual(Buffer.from([1, 2, 3, 0x55, 0x49, 0x44, 0xff]))
    expect(memoryStream.createWriteStream().toBuffer()).toEqual(Buffer.alloc(0))
  })
})

describe('DIMSE command decoding', () => {
  const uid = fc.stringMatching(/^[12](\.[1-9]\d{0,8}){1,6}$/)
  const ae = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/)
  const us = fc.integer({ min: 0, max: 0xffff })
  const command = fc.record({
    AffectedSOPClassUID: uid,
    CommandField: fc.constantFrom(0x0001, 0x8001, 0x0010, 0x8010, 0x0020, 0x8020, 0x0021, 0x8021, 0x0030, 0x8030),
    MessageID: us,
    MessageIDBeingRespondedTo: us,
    Priority: fc.constantFrom(0, 1, 2),
    CommandDataSetType: fc.constantFrom(0x0101, 0x0102),
    Status: us,
    ErrorComment: fc.stringMatching(/^[A-Za-z0-9:(), ]{0,40}$/),
    AffectedSOPInstanceUID: uid,
    MoveDestination: ae,
    NumberOfRemainingSuboperations: us,
    NumberOfCompletedSuboperations: us,
    NumberOfFailedSuboperations: us,
    NumberOfWarningSuboperations: us,
    MoveOriginatorApplicationEntityTitle: ae,
    MoveOriginatorMessageID: us
  }, { requiredKeys: ['CommandField', 'CommandDataSetType'] })

  it('reads every command in its table exactly as dcmjs-dimse reads it', () => {
    fc.assert(fc.property(command, (elements) => {
      const bytes = encodeCommand(elements) as Buffer
      expect(decodeCommand(bytes)).toEqual(dcmjsRead(bytes))
    }), { numRuns: 300 })
  })

  it('is what dcmjs-dimse now uses for received commands, and round-trips', () => {
    const rsp = fastCommand(dimse.responses.CGetResponse.fromRequest(new dimse.requests.CGetRequest()))
    rsp.setStatus(0xff00)
    rsp.getCommandDataset().setElement('NumberOfRemainingSuboperations', 31 as unknown as string)
    const bytes = rsp.getCommandDataset().getDenaturalizedCommandDataset()
    const elements = new dimse.Dataset(bytes).getElements()
    expect(elements).toEqual(decodeCommand(bytes))
    expect(elements.NumberOfRemainingSuboperations).toBe(31)
    expect(elements.CommandGroupLength).toBe(bytes.length - 12)
  })

  it('leaves anything it does not know to dcmjs: other groups, unknown elements, odd lengths, truncation', () => {
    const ok = encodeCommand({ CommandField: 0x8001, Status: 0 }) as Buffer
    expect(decodeCommand(ok)).toBeDefined()
    const offending = Buffer.from([0x00, 0x00, 0x01, 0x09, 0x04, 0x00, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00])
    expect(decodeCommand(Buffer.concat([ok, offending]))).toBeUndefined()
    expect(decodeCommand(ok.subarray(0, ok.length - 1))).toBeUndefined()
    const shortUs = Buffer.from(ok)
    shortUs.writeUInt32LE(3, 12 + 4) // CommandField claims 3 bytes
    expect(decodeCommand(shortUs)).toBeUndefined()
    expect(decodeCommand(Buffer.from([0x08, 0x00, 0x16, 0x00, 0x00, 0x00, 0x00, 0x00]))).toBeUndefined()
    expect(decodeCommand(Buffer.alloc(4))).toBeUndefined()
  })
})
