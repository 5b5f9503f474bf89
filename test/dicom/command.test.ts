import { describe, expect, it } from 'vitest'
import { encodeCommand, fastCommand } from '../../src/dicom/command.js'
import { dimse } from '../../src/dicom/dimse.js'

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
