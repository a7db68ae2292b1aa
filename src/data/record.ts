/**
 * The storm-event record as every part of the system sees it (SPEC §4).
 *
 * A record is a plain array rather than an object: it crosses the wire in bulk store
 * batches, and a positional array of strings is both the smallest JSON form and the
 * form the course files already have.
 */

/** The course file's columns, in the course file's order; a StormRecord follows this order. */
export const COLUMNS = [
  'event_id',
  'state',
  'year',
  'month_name',
  'event_type',
  'cz_type',
  'cz_name',
  'injuries_direct',
  'injuries_indirect',
  'deaths_direct',
  'deaths_indirect',
  'damage_property',
  'damage_crops',
  'tor_f_scale',
] as const;

export type Column = (typeof COLUMNS)[number];

/**
 * One storm event: 14 strings in COLUMNS order (tor_f_scale '' when the file has no such
 * column). event_id is a decimal string of a non-negative safe integer.
 */
export type StormRecord = string[];

/** The event id as a number; parsing guarantees it is a non-negative safe integer. */
export function eventIdOf(r: StormRecord): number {
  return Number(r[0]);
}

/** A year's records as record lines (data/line.ts): what a peer keeps, stores and sends. */
export interface LineDataset {
  year: number;
  lines: string[];
  source: string;
}

export interface Dataset {
  year: number;
  records: StormRecord[];
  /** File path the records came from, or 'synthetic'. */
  source: string;
}
