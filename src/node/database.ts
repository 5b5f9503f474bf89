/**
 * A hospital node's one LevelDB, in `<dataDir>/db`; modules take sublevels
 * of it. A data directory already open in another process is refused with
 * a typed error, not LevelDB's lock message.
 */
import { join } from 'node:path'
import { Level } from 'level'
import { DATABASE_DIR_NAME } from '../config/defaults.js'
import { DataDirInUseError } from './errors.js'

export type NodeDatabase = Level<string, Uint8Array>

export async function openNodeDatabase (dataDir: string): Promise<NodeDatabase> {
  const db: NodeDatabase = new Level(join(dataDir, DATABASE_DIR_NAME), { valueEncoding: 'view' })
  try {
    await db.open()
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') throw new DataDirInUseError(dataDir)
    throw err
  }
  return db
}
