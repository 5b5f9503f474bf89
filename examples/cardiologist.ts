// Three hospitals on 127.0.0.1; hospital A's imager sends a cardiac CT; a cardiologist
// working at hospital C finds it, reads its parameters, gets the volume, and ranks similar cases.
import '../src/polyfill.js'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Dm2Client } from '../src/api/index.js'
import { startLocalFederation } from '../src/node/local-federation.js'
import { generateSigner, issueCertificate } from '../src/sac/index.js'
import { writeSeries } from '../src/synthetic/index.js'

const root = await mkdtemp(join(tmpdir(), 'dm2-example-'))
const fed = await startLocalFederation({ root, hospitals: 3 })
try {
  const [a, , c] = fed.nodes
  // The imager: a 3-slice CT (512², the paper's 0.5 MB slices) into hospital A's slice store.
  const slices = join(root, 'imager')
  await mkdir(slices)
  await writeSeries(slices, { modality: 'CT', rows: 512, columns: 512, slices: 3, seed: 1 })
  let lfn = ''
  for (const f of await readdir(slices)) lfn = (await a!.dicom.ingestor.importFile(join(slices, f))).lfn
  await a!.dicom.registry.register(lfn)

  // Every hospital grants the cardiologist reading, querying and similarity ranking for 8 hours.
  const cardiologist = generateSigner()
  const now = Math.floor(Date.now() / 1000)
  const certificates = fed.nodes.map(n => issueCertificate({
    audience: cardiologist.publicKey,
    resource: { selector: { modality: ['CT'] } },
    abilities: ['query', 'image/read', 'similarity'],
    notBefore: now - 60,
    expiry: now + 8 * 3600,
    purpose: 'TREAT'
  }, n.siteSigner()).bytes)

  const client = new Dm2Client(c!, { signer: cardiologist, certificates })
  const { results, partial } = await client.query('modality = "CT" AND slices >= 3')
  console.log(`${results.length} CT series found, ${partial.length} hospital(s) did not answer`)
  const params = await client.parameters(lfn)
  console.log(`master ${params.master}, version ${params.version}`, params.meta)
  const image = await client.getImage(lfn, { out: join(root, 'heart.nii.gz') })
  console.log(`${image.bytes} bytes of NIfTI in ${Math.round(image.ms)} ms`)
  await a!.similarity.indexer.idle() // features are computed in the background at ingest
  const similar = await client.similar(lfn, { measure: 'cr', topK: 5 })
  console.log(`${similar.results.length} similar series (the query itself is never among them)`)
} finally {
  await fed.stop()
  await rm(root, { recursive: true, force: true })
}
