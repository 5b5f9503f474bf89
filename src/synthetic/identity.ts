/**
 * Realistic but fake identifying attributes (PS3.15 Annex E table E.1-1
 * lists all of them for removal), so de-identification and the registry's
 * identifying/descriptive split have real values to work on. Every name
 * here is invented.
 */
import { prng } from './random.js'
import type { Seed } from './random.js'

export interface FakeIdentity {
  patientName: string
  patientId: string
  patientBirthDate: string
  patientSex: 'F' | 'M'
  patientAge: string
  patientWeight: number
  accessionNumber: string
  institutionName: string
  institutionAddress: string
  stationName: string
  referringPhysicianName: string
  performingPhysicianName: string
  operatorsName: string
  studyDate: string
  studyTime: string
  studyId: string
  deviceSerialNumber: string
}

const FAMILY = ['Moreau', 'Lindqvist', 'Okafor', 'Tanaka', 'Rossi', 'Novak', 'Haddad', 'Fernandes', 'Kowalski', 'Dubois', 'Brennan', 'Yilmaz']
const GIVEN_F = ['Claire', 'Ingrid', 'Amara', 'Yuki', 'Giulia', 'Petra', 'Leila', 'Marta']
const GIVEN_M = ['Julien', 'Erik', 'Chidi', 'Hiroshi', 'Marco', 'Tomas', 'Karim', 'Joao']
const INSTITUTIONS = [
  ['Hopital Saint-Fictif', '12 rue Imaginaire, 69000 Lyon'],
  ['Clinique des Tilleuls Synthetiques', '4 avenue du Test, 13000 Marseille'],
  ['Ospedale Immaginario', 'Via Finta 8, 20100 Milano'],
  ['Universitaetsklinikum Beispielstadt', 'Musterweg 3, 69117 Heidelberg']
] as const

const pick = <T>(items: readonly T[], next: () => number): T => items[Math.floor(next() * items.length)] as T
const pad = (n: number, width: number): string => String(n).padStart(width, '0')
const digits = (count: number, next: () => number): string =>
  Array.from({ length: count }, () => Math.floor(next() * 10)).join('')

function person (next: () => number): string {
  const sex = next() < 0.5
  return `${pick(FAMILY, next)}^${pick(sex ? GIVEN_F : GIVEN_M, next)}`
}

/** A fake identity; the same seed always gives the same one. */
export function fakeIdentity (seed: Seed | undefined): FakeIdentity {
  const next = seed === undefined ? Math.random : prng(seed, 'identity')
  const female = next() < 0.5
  const birthYear = 1935 + Math.floor(next() * 70)
  const birthMonth = 1 + Math.floor(next() * 12)
  const birthDay = 1 + Math.floor(next() * 28)
  const studyYear = 2019 + Math.floor(next() * 6)
  const studyMonth = 1 + Math.floor(next() * 12)
  const studyDay = 1 + Math.floor(next() * 28)
  const [institutionName, institutionAddress] = pick(INSTITUTIONS, next)
  return {
    patientName: `${pick(FAMILY, next)}^${pick(female ? GIVEN_F : GIVEN_M, next)}`,
    patientId: `PID${digits(8, next)}`,
    patientBirthDate: `${birthYear}${pad(birthMonth, 2)}${pad(birthDay, 2)}`,
    patientSex: female ? 'F' : 'M',
    patientAge: `${pad(studyYear - birthYear, 3)}Y`,
    patientWeight: Math.round(50 + next() * 50),
    accessionNumber: `ACC${digits(9, next)}`,
    institutionName,
    institutionAddress,
    stationName: `SCANNER${1 + Math.floor(next() * 9)}`,
    referringPhysicianName: person(next),
    performingPhysicianName: person(next),
    operatorsName: person(next),
    studyDate: `${studyYear}${pad(studyMonth, 2)}${pad(studyDay, 2)}`,
    studyTime: `${pad(7 + Math.floor(next() * 12), 2)}${pad(Math.floor(next() * 60), 2)}${pad(Math.floor(next() * 60), 2)}`,
    studyId: digits(5, next),
    deviceSerialNumber: `SN-${digits(6, next)}`
  }
}
