/**
 * A real Orthanc (Debian's /usr/sbin/Orthanc) for a test file: generated
 * JSON config in a temp dir, free ports, storage and index in the temp dir,
 * HTTP only on loopback, a DICOM modality entry pointing back at our SCP.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { freePort, stopChild, tool, track, waitForPort } from './tools.js'

export interface OrthancOptions {
  dir: string
  aeTitle?: string
  /** Modalities Orthanc knows (C-MOVE destinations, C-FIND/C-GET callers), by AE title. */
  modalities?: Record<string, { host: string, port: number }>
}

export interface RunningOrthanc {
  aeTitle: string
  dicomPort: number
  httpPort: number
  url: string
  process: ChildProcess
  /** Uploads a Part 10 file through the REST API. */
  upload: (path: string) => Promise<void>
  stop: () => Promise<void>
}

export async function startOrthanc (o: OrthancOptions): Promise<RunningOrthanc> {
  const aeTitle = o.aeTitle ?? 'ORTHANC'
  const dicomPort = await freePort()
  const httpPort = await freePort()
  await mkdir(join(o.dir, 'storage'), { recursive: true })
  await mkdir(join(o.dir, 'index'), { recursive: true })
  const modalities: Record<string, [string, string, number]> = {}
  for (const [ae, m] of Object.entries(o.modalities ?? {})) modalities[ae] = [ae, m.host, m.port]
  const config = {
    Name: 'dm2-test-pacs',
    StorageDirectory: join(o.dir, 'storage'),
    IndexDirectory: join(o.dir, 'index'),
    DicomAet: aeTitle,
    DicomPort: dicomPort,
    HttpPort: httpPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomCheckCalledAet: false,
    DicomCheckModalityHost: false,
    DicomModalities: modalities,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    // Nodes in the tests call from free ports Orthanc cannot know in advance.
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowGet: true,
    UnknownSopClassAccepted: true,
    StorageCompression: false,
    Plugins: [],
    ConcurrentJobs: 2,
    HttpCompressionEnabled: false
  }
  const configPath = join(o.dir, 'orthanc.json')
  await writeFile(configPath, JSON.stringify(config, null, 2))
  // Orthanc's DICOM stack is DCMTK: TCP_NODELAY=1 turns Nagle off on its side too.
  const child = track(spawn(tool('Orthanc'), [configPath], { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } }))
  const stop = async (): Promise<void> => { await stopChild(child, 'SIGTERM', 10_000) }
  try {
    await waitForPort(httpPort)
    await waitForPort(dicomPort)
  } catch (err) {
    await stop()
    throw err
  }
  const url = `http://127.0.0.1:${httpPort}`
  return {
    aeTitle,
    dicomPort,
    httpPort,
    url,
    process: child,
    upload: async path => {
      const res = await fetch(`${url}/instances`, { method: 'POST', body: await readFile(path) })
      if (!res.ok) throw new Error(`Orthanc refused ${path}: ${res.status}`)
    },
    stop
  }
}
