/**
 * Synthetic storm events, for tests, simulations and benchmarks at sizes the real files
 * do not have. They look like NOAA data (same vocabularies, same damage notation) so a
 * person reading a trace cannot tell the difference at a glance, and their event ids are
 * spread like real ones so the hash (SPEC §4) spreads them the way it spreads real data.
 *
 * Deterministic: a seeded PRNG, never Math.random, so a failing simulation can be replayed.
 */
import { COLUMNS, eventIdOf, type StormRecord } from './record.js';

/** mulberry32: tiny, fast, good enough for test data; returns floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix year and seed so each year gets its own stream without the caller choosing seeds. */
function mixSeed(year: number, seed: number): number {
  let h = Math.imul((year | 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ (seed | 0), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

type Rng = () => number;

function below(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Picks from a list with weights; the cumulative table is built once per list. */
function weighted<T>(entries: readonly (readonly [T, number])[]): (rng: Rng) => T {
  const values = entries.map(([v]) => v);
  const cumulative: number[] = [];
  let total = 0;
  for (const [, w] of entries) cumulative.push((total += w));
  return (rng) => {
    const r = rng() * total;
    let i = 0;
    while (cumulative[i] <= r) i++;
    return values[i];
  };
}

const STATES = [
  'ALABAMA', 'ALASKA', 'ARIZONA', 'ARKANSAS', 'CALIFORNIA', 'COLORADO', 'CONNECTICUT', 'DELAWARE',
  'FLORIDA', 'GEORGIA', 'HAWAII', 'IDAHO', 'ILLINOIS', 'INDIANA', 'IOWA', 'KANSAS', 'KENTUCKY',
  'LOUISIANA', 'MAINE', 'MARYLAND', 'MASSACHUSETTS', 'MICHIGAN', 'MINNESOTA', 'MISSISSIPPI',
  'MISSOURI', 'MONTANA', 'NEBRASKA', 'NEVADA', 'NEW HAMPSHIRE', 'NEW JERSEY', 'NEW MEXICO',
  'NEW YORK', 'NORTH CAROLINA', 'NORTH DAKOTA', 'OHIO', 'OKLAHOMA', 'OREGON', 'PENNSYLVANIA',
  'RHODE ISLAND', 'SOUTH CAROLINA', 'SOUTH DAKOTA', 'TENNESSEE', 'TEXAS', 'UTAH', 'VERMONT',
  'VIRGINIA', 'WASHINGTON', 'WEST VIRGINIA', 'WISCONSIN', 'WYOMING',
] as const;

/** Storms cluster in the plains and the south, as in the real files. */
const pickState = weighted(
  STATES.map((s) => [s, ['TEXAS', 'KANSAS', 'OKLAHOMA', 'NEBRASKA', 'IOWA', 'MISSOURI'].includes(s) ? 4 : 1] as const),
);

/** Severe weather peaks in late spring and summer. */
const pickMonth = weighted([
  ['January', 2], ['February', 2], ['March', 5], ['April', 8], ['May', 12], ['June', 12],
  ['July', 10], ['August', 8], ['September', 5], ['October', 4], ['November', 3], ['December', 2],
] as const);

/**
 * NOAA's coverage grew over time: tornadoes only until 1954, plus thunderstorm wind and
 * hail until 1995, all 48 event types from 1996.
 */
const pickTypeBefore1955 = weighted([['Tornado', 1]] as const);
const pickTypeBefore1996 = weighted([['Tornado', 2], ['Thunderstorm Wind', 5], ['Hail', 5]] as const);
const pickTypeModern = weighted([
  ['Thunderstorm Wind', 30], ['Hail', 28], ['Flash Flood', 8], ['Tornado', 8], ['Flood', 5],
  ['High Wind', 4], ['Heavy Snow', 4], ['Winter Storm', 3], ['Lightning', 2], ['Heavy Rain', 2],
  ['Drought', 2], ['Winter Weather', 2], ['Excessive Heat', 1], ['Strong Wind', 1], ['Blizzard', 1],
] as const);

function pickEventType(rng: Rng, year: number): string {
  if (year < 1955) return pickTypeBefore1955(rng);
  if (year < 1996) return pickTypeBefore1996(rng);
  return pickTypeModern(rng);
}

/** NOAA files these by forecast zone ('Z'); the others by county ('C'). */
const ZONE_TYPES: ReadonlySet<string> = new Set([
  'High Wind', 'Heavy Snow', 'Winter Storm', 'Drought', 'Winter Weather', 'Excessive Heat', 'Strong Wind', 'Blizzard',
]);

const COUNTIES = [
  'WASHINGTON', 'JEFFERSON', 'FRANKLIN', 'JACKSON', 'LINCOLN', 'MADISON', 'CLAY', 'MONROE', 'UNION',
  'MARION', 'WAYNE', 'GREENE', 'CARROLL', 'POLK', 'WARREN', 'SHELBY', 'HANCOCK', 'BRYAN', 'WASHITA',
  'COMANCHE', 'SEDGWICK', 'DALLAS', 'TRAVIS', 'HARRIS', 'ST. LOUIS', 'DE KALB', 'LA SALLE',
  'PRINCE GEORGE\'S', 'MC LEAN', 'SPENCER', 'LAKE', 'ORANGE', 'MARSHALL', 'BENTON', 'CLARK',
] as const;
const ZONE_PREFIXES = ['', 'NORTHERN ', 'SOUTHERN ', 'EASTERN ', 'WESTERN ', 'CENTRAL '] as const;

function pickCzName(rng: Rng, czType: string): string {
  const county = COUNTIES[below(rng, COUNTIES.length)];
  return czType === 'Z' ? ZONE_PREFIXES[below(rng, ZONE_PREFIXES.length)] + county : county;
}

/** Mostly zero, occasionally a small count with a long tail; tornadoes hurt more people. */
function casualties(rng: Rng, chance: number): string {
  if (rng() >= chance) return '0';
  let n = 1;
  while (rng() < 0.45 && n < 200) n++;
  return String(n);
}

/** NOAA's notation: a number and a K/M/B multiplier; most events cause no recorded damage. */
const pickPropertyDamage = weighted([
  ['0K', 55], ['1K', 5], ['2K', 5], ['5K', 6], ['10K', 6], ['15K', 3], ['20K', 3], ['25K', 3],
  ['50K', 3], ['75K', 1], ['100K', 2], ['150K', 1], ['250K', 2], ['500K', 1], ['750K', 0.5],
  ['1M', 1], ['1.5M', 0.6], ['2.5M', 0.4], ['5M', 0.3], ['10M', 0.15], ['25M', 0.05], ['1.2B', 0.01],
] as const);
const pickCropDamage = weighted([
  ['0', 70], ['0K', 15], ['1K', 3], ['5K', 3], ['10K', 3], ['50K', 2], ['100K', 2], ['1M', 1], ['2.5M', 1],
] as const);

/** Weaker tornadoes are far more common; the Enhanced Fujita scale replaced F in Feb 2007. */
const pickScaleDigit = weighted([['0', 45], ['1', 30], ['2', 15], ['3', 7], ['4', 2.5], ['5', 0.5]] as const);

function torScale(rng: Rng, year: number, eventType: string): string {
  if (eventType !== 'Tornado') return '';
  return (year >= 2007 ? 'EF' : 'F') + pickScaleDigit(rng);
}

/** Real ids are 7-digit in this era; beyond ~4M records the 7-digit range would be crowded. */
function idRange(count: number): { base: number; span: number } {
  return count <= 4_000_000 ? { base: 5_000_000, span: 5_000_000 } : { base: 10_000_000, span: 2 * count };
}

/**
 * Unique, well-spread ids with no Set: increasing ids with random gaps (so the range is
 * never exceeded and no id repeats), then a Fisher–Yates shuffle so file order is not
 * id order, as in NOAA files.
 */
function eventIds(rng: Rng, count: number): number[] {
  const { base, span } = idRange(count);
  const maxGap = Math.max(1, Math.floor(span / Math.max(count, 1)));
  const ids = new Array<number>(count);
  let next = base;
  for (let i = 0; i < count; i++) {
    next += 1 + below(rng, maxGap);
    ids[i] = next - 1;
  }
  for (let i = count - 1; i > 0; i--) {
    const j = below(rng, i + 1);
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
  }
  return ids;
}

/**
 * Record counts of the course files (SPEC §6): a synthetic stand-in of the same size has the same
 * table size s and similar per-node counts, so runs without the course data stress the same paths.
 */
export const COURSE_RECORD_COUNTS = { 1950: 223, 1996: 48_534 } as const;

/**
 * Deterministic synthetic storm events for a year: same (year, count, seed) gives
 * identical output. Event ids are unique.
 */
export function generateSynthetic(year: number, count: number, seed = 1): StormRecord[] {
  if (!Number.isSafeInteger(year)) throw new RangeError(`year must be an integer, got ${year}`);
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const rng = mulberry32(mixSeed(year, seed));
  const ids = eventIds(rng, count);
  const yearText = String(year);
  const records: StormRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const eventType = pickEventType(rng, year);
    const czType = ZONE_TYPES.has(eventType) ? 'Z' : 'C';
    const tornado = eventType === 'Tornado';
    records[i] = [
      String(ids[i]),
      pickState(rng),
      yearText,
      pickMonth(rng),
      eventType,
      czType,
      pickCzName(rng, czType),
      casualties(rng, tornado ? 0.08 : 0.01),
      casualties(rng, 0.002),
      casualties(rng, tornado ? 0.01 : 0.002),
      casualties(rng, 0.001),
      pickPropertyDamage(rng),
      pickCropDamage(rng),
      torScale(rng, year, eventType),
    ];
  }
  return records;
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A course-format file: header of COLUMNS, then one LF-terminated line per record. */
export function toCsv(records: StormRecord[]): string {
  const lines = new Array<string>(records.length + 1);
  lines[0] = COLUMNS.join(',');
  for (let i = 0; i < records.length; i++) lines[i + 1] = records[i].map(csvField).join(',');
  return lines.join('\n') + '\n';
}

/** Walk up from start to the first id that is not taken (and not excluded). */
function firstAbsentFrom(start: number, taken: ReadonlySet<number>, exclude: number): number {
  let id = Number.isSafeInteger(start) && start >= 0 ? start : 0;
  while (taken.has(id) || id === exclude) id++;
  return id;
}

/**
 * Demo ids for the acceptance scenario (SPEC §6) on a synthetic dataset: two ids present
 * and two absent. Like the course's list, one absent id is near a real one and the other
 * is a real one with an extra digit, the typo a person makes.
 */
export function demoEventIds(records: StormRecord[]): { present: [number, number]; absent: [number, number] } {
  if (records.length === 0) throw new RangeError('demoEventIds needs at least one record');
  const present: [number, number] = [
    eventIdOf(records[Math.floor(records.length / 4)]),
    eventIdOf(records[Math.floor((3 * records.length) / 4)]),
  ];
  const taken = new Set(records.map(eventIdOf));
  const nearMiss = firstAbsentFrom(present[0] + 1, taken, -1);
  const extraDigit = firstAbsentFrom(present[1] * 10 + 1, taken, nearMiss);
  return { present, absent: [nearMiss, extraDigit] };
}
