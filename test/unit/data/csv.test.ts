import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  DataError,
  parseStormCsv,
  parseWithLibrary,
  findDatasetFile,
  checkDatasetReadable,
  loadDataset,
} from '../../../src/data/csv.js';
import { COLUMNS, eventIdOf, type StormRecord } from '../../../src/data/record.js';


const HEADER14 = COLUMNS.join(',');
const HEADER13 = COLUMNS.slice(0, 13).join(',');

const ROW_A = ['10096222', 'OKLAHOMA', '1950', 'April', 'Tornado', 'C', 'WASHITA', '0', '0', '0', '0', '250K', '0', 'F3'];
const ROW_B = ['10120412', 'TEXAS', '1950', 'April', 'Tornado', 'C', 'COMANCHE', '0', '0', '0', '0', '25K', '0', 'F1'];
const ROW_C = ['5570068', 'ILLINOIS', '1996', 'Unknown', 'Tornado', 'C', 'HANCOCK', '0', '0', '0', '0', '0K', '0', ''];

function lines(...ls: string[]): string {
  return ls.join('\n') + '\n';
}

/** The DataError a call throws, so tests can look at its message. */
function dataErrorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

describe('parseStormCsv: course files', () => {
  it('reads a 14-column course file', () => {
    const text = lines(HEADER14, ROW_A.join(','), ROW_B.join(','), ROW_C.join(','));
    expect(parseStormCsv(text)).toEqual([ROW_A, ROW_B, ROW_C]);
  });

  it('reads a 13-column file (no tor_f_scale) with tor_f_scale as empty string', () => {
    const text = lines(HEADER13, ROW_A.slice(0, 13).join(','), ROW_B.slice(0, 13).join(','));
    expect(parseStormCsv(text)).toEqual([
      [...ROW_A.slice(0, 13), ''],
      [...ROW_B.slice(0, 13), ''],
    ]);
  });

  it('matches header names case-insensitively: upper-case and mixed-case', () => {
    const upper = lines(HEADER14.toUpperCase(), ROW_A.join(','));
    expect(parseStormCsv(upper)).toEqual([ROW_A]);
    const mixed = lines(
      'Event_ID,State,YEAR,Month_Name,event_TYPE,Cz_Type,CZ_name,Injuries_Direct,INJURIES_indirect,' +
        'Deaths_Direct,Deaths_Indirect,Damage_Property,Damage_Crops,Tor_F_Scale',
      ROW_A.join(','),
    );
    expect(parseStormCsv(mixed)).toEqual([ROW_A]);
  });

  it('tolerates spaces around header names', () => {
    const text = lines(COLUMNS.map((c) => ` ${c} `).join(','), ROW_A.join(','));
    expect(parseStormCsv(text)).toEqual([ROW_A]);
  });

  it('reads columns in another order, ignoring extra columns', () => {
    const order = [...COLUMNS.keys()].reverse();
    const header = ['extra_one', ...order.map((i) => COLUMNS[i]), 'extra_two'].join(',');
    const row = (r: string[]) => ['x', ...order.map((i) => r[i]), 'y'].join(',');
    expect(parseStormCsv(lines(header, row(ROW_A), row(ROW_C)))).toEqual([ROW_A, ROW_C]);
  });

  it('reads CRLF exactly like LF', () => {
    const lf = lines(HEADER14, ROW_A.join(','), ROW_C.join(','));
    const crlf = lf.replace(/\n/g, '\r\n');
    expect(parseStormCsv(crlf)).toEqual(parseStormCsv(lf));
    expect(parseStormCsv(crlf)).toEqual([ROW_A, ROW_C]);
    // Quoted CRLF goes through csv-parse; the result must not change.
    expect(parseStormCsv(crlf.replace('OKLAHOMA', '"OKLAHOMA"'))).toEqual([ROW_A, ROW_C]);
  });

  it('reads mixed LF/CRLF line endings the same on both paths', () => {
    const text = `${HEADER14}\r\n${ROW_A.join(',')}\n${ROW_C.join(',')}\r\n`;
    expect(parseStormCsv(text)).toEqual([ROW_A, ROW_C]);
    expect(parseWithLibrary(text)).toEqual([ROW_A, ROW_C]);
  });

  it('keeps empty trailing fields, including on a last line without newline', () => {
    const text = `${HEADER14}\n${ROW_C.join(',')}\n${ROW_A.slice(0, 13).join(',')},`;
    expect(parseStormCsv(text)).toEqual([ROW_C, [...ROW_A.slice(0, 13), '']]);
    const allEmptyButId = `${HEADER14}\n42${','.repeat(13)}\n`;
    expect(parseStormCsv(allEmptyButId)).toEqual([['42', ...new Array(13).fill('')]]);
  });

  it('skips blank lines, including blank final lines', () => {
    const text = `\n${HEADER14}\r\n\r\n${ROW_A.join(',')}\n\n${ROW_B.join(',')}\r\n\r\n\n`;
    expect(parseStormCsv(text)).toEqual([ROW_A, ROW_B]);
    expect(parseWithLibrary(text)).toEqual([ROW_A, ROW_B]);
  });

  it('strips a UTF-8 byte-order mark on both paths', () => {
    const text = '\uFEFF' + lines(HEADER14, ROW_A.join(','));
    expect(parseStormCsv(text)).toEqual([ROW_A]);
    expect(parseStormCsv(text.replace('OKLAHOMA', '"OKLAHOMA"'))).toEqual([ROW_A]);
    expect(parseWithLibrary(text)).toEqual([ROW_A]);
  });

  it('returns no records for a header-only file', () => {
    expect(parseStormCsv(HEADER14)).toEqual([]);
    expect(parseStormCsv(HEADER14 + '\r\n')).toEqual([]);
  });
});

describe('parseStormCsv: quoted fields', () => {
  it('handles embedded commas, doubled quotes and newlines', () => {
    const text = lines(
      HEADER14,
      '"10096222","OKLAHOMA",1950,"April","Tornado","C","WASHITA, EAST",0,0,0,0,"250K",0,"F3"',
      '10120412,TEXAS,1950,April,Tornado,C,"THE ""BIG"" COUNTY",0,0,0,0,25K,0,F1',
      '5570068,ILLINOIS,1996,Unknown,Tornado,C,"HAN\nCOCK",0,0,0,0,0K,0,""',
      '5570069,ILLINOIS,1996,Unknown,Tornado,C,"A\r\nB",0,0,0,0,0K,0,',
    );
    expect(parseStormCsv(text)).toEqual([
      [...ROW_A.slice(0, 6), 'WASHITA, EAST', ...ROW_A.slice(7)],
      [...ROW_B.slice(0, 6), 'THE "BIG" COUNTY', ...ROW_B.slice(7)],
      [...ROW_C.slice(0, 6), 'HAN\nCOCK', ...ROW_C.slice(7)],
      ['5570069', ...ROW_C.slice(1, 6), 'A\r\nB', ...ROW_C.slice(7)],
    ]);
  });

  it('reports malformed quoting as a DataError with a line number', () => {
    const text = lines(HEADER14, ROW_A.join(','), '1,"TEX"AS,1950,April,Tornado,C,X,0,0,0,0,0K,0,F1');
    const err = dataErrorOf(() => parseStormCsv(text, 'details-1950.csv'));
    expect(err.message).toMatch(/^details-1950\.csv, line 3: malformed CSV/);
    expect(err.message).not.toContain('\n');
    const unclosed = lines(HEADER14, '1,"TEXAS,1950,April,Tornado,C,X,0,0,0,0,0K,0,F1');
    expect(dataErrorOf(() => parseStormCsv(unclosed, 'f.csv')).message).toMatch(/^f\.csv, line \d+: malformed CSV/);
  });
});

/** A realistic excerpt of a NOAA bulk file: 51 upper-case columns, strings quoted, narratives with commas. */
const NOAA_HEADER =
  'BEGIN_YEARMONTH,BEGIN_DAY,BEGIN_TIME,END_YEARMONTH,END_DAY,END_TIME,EPISODE_ID,EVENT_ID,STATE,STATE_FIPS,' +
  'YEAR,MONTH_NAME,EVENT_TYPE,CZ_TYPE,CZ_FIPS,CZ_NAME,WFO,BEGIN_DATE_TIME,CZ_TIMEZONE,END_DATE_TIME,' +
  'INJURIES_DIRECT,INJURIES_INDIRECT,DEATHS_DIRECT,DEATHS_INDIRECT,DAMAGE_PROPERTY,DAMAGE_CROPS,SOURCE,' +
  'MAGNITUDE,MAGNITUDE_TYPE,FLOOD_CAUSE,CATEGORY,TOR_F_SCALE,TOR_LENGTH,TOR_WIDTH,TOR_OTHER_WFO,' +
  'TOR_OTHER_CZ_STATE,TOR_OTHER_CZ_FIPS,TOR_OTHER_CZ_NAME,BEGIN_RANGE,BEGIN_AZIMUTH,BEGIN_LOCATION,' +
  'END_RANGE,END_AZIMUTH,END_LOCATION,BEGIN_LAT,BEGIN_LON,END_LAT,END_LON,EPISODE_NARRATIVE,' +
  'EVENT_NARRATIVE,DATA_SOURCE';
const NOAA_ROWS = [
  '199604,12,1530,199604,12,1535,,5536849,"ALABAMA",1,1996,"April","Tornado","C",117,"SHELBY","BMX",' +
    '"12-APR-96 15:30:00","CST","12-APR-96 15:35:00","0","0","0","0","10K","1K","",,"","",,"F1","2","50",' +
    '"","","","","3","NE","PELHAM","2","NE","PELHAM","33.3","-86.8","33.32","-86.78","",' +
    '"A tornado touched down near Pelham, damaging roofs and ""downing"" trees.","PDC"',
  '201905,20,1400,201905,20,1410,137000,824151,"TEXAS",48,2019,"May","Hail","C",453,"TRAVIS","EWX",' +
    '"20-MAY-19 14:00:00","CST-6","20-MAY-19 14:10:00","0","0","0","0","0.00K","0.00K","Trained Spotter",' +
    '"1.75","","","","","","","","","","","2","N","AUSTIN","2","N","AUSTIN","30.3","-97.74","30.3","-97.74",' +
    '"Storms formed along a dryline, producing large hail, damaging winds,\nand heavy rain.",' +
    '"Golf ball size hail was reported, breaking windows.","CSV"',
  '201901,2,600,201901,3,1800,133000,799001,"MINNESOTA",27,2019,"January","Winter Storm","Z",45,' +
    '"NORTHERN COOK / NORTHERN LAKE","DLH","02-JAN-19 06:00:00","CST-6","03-JAN-19 18:00:00","0","1","0","0",' +
    '"","","COOP Observer","","","","","","","","","","","","","","","","","","","","","",' +
    '"Heavy snow, 8 to 12 inches, fell across the Arrowhead.","","CSV"',
];

describe('parseStormCsv: NOAA bulk layout', () => {
  it('picks the 14 fields out of 51 quoted columns', () => {
    expect(NOAA_HEADER.split(',')).toHaveLength(51);
    const records = parseStormCsv(lines(NOAA_HEADER, ...NOAA_ROWS), 'StormEvents_details-ftp_v1.0_d2019_c20240117.csv');
    expect(records).toEqual([
      ['5536849', 'ALABAMA', '1996', 'April', 'Tornado', 'C', 'SHELBY', '0', '0', '0', '0', '10K', '1K', 'F1'],
      ['824151', 'TEXAS', '2019', 'May', 'Hail', 'C', 'TRAVIS', '0', '0', '0', '0', '0.00K', '0.00K', ''],
      ['799001', 'MINNESOTA', '2019', 'January', 'Winter Storm', 'Z', 'NORTHERN COOK / NORTHERN LAKE', '0', '1', '0', '0', '', '', ''],
    ]);
  });

  it('reads the NOAA layout with CRLF and a BOM too', () => {
    const text = '\uFEFF' + lines(NOAA_HEADER, ...NOAA_ROWS).replace(/\n/g, '\r\n');
    const records = parseStormCsv(text);
    expect(records.map(eventIdOf)).toEqual([5536849, 824151, 799001]);
    expect(records[1][6]).toBe('TRAVIS');
  });

  it('gives the line a bad row starts on, counting newlines inside quoted fields', () => {
    // NOAA_ROWS[1] spans lines 3–4, so the next row starts on line 5.
    const bad = NOAA_ROWS[2].replace('799001', '7990x1');
    const err = dataErrorOf(() => parseStormCsv(lines(NOAA_HEADER, NOAA_ROWS[0], NOAA_ROWS[1], bad), 'noaa.csv'));
    expect(err.message).toBe('noaa.csv, line 5: event_id "7990x1" is not a non-negative integer');
  });
});

describe('parseStormCsv: errors', () => {
  it('names a missing required column', () => {
    const header = COLUMNS.filter((c) => c !== 'cz_name').join(',');
    const err = dataErrorOf(() => parseStormCsv(lines(header, ROW_A.slice(0, 13).join(',')), 'details-1950.csv'));
    expect(err.message).toContain('cz_name');
    expect(err.message).toContain('details-1950.csv');
    const two = COLUMNS.filter((c) => c !== 'event_id' && c !== 'year').join(',');
    const err2 = dataErrorOf(() => parseStormCsv(lines(two)));
    expect(err2.message).toMatch(/missing required columns event_id, year/);
  });

  it('rejects an empty file', () => {
    expect(dataErrorOf(() => parseStormCsv('', 'x.csv')).message).toBe('x.csv: the file is empty (no header line)');
    expect(dataErrorOf(() => parseStormCsv('\r\n\n')).message).toMatch(/empty/);
    expect(dataErrorOf(() => parseWithLibrary('')).message).toMatch(/empty/);
  });

  it('rejects a bad event id with its line number', () => {
    for (const badId of ['-5', 'abc', '', '12.5', '1e6', ' 12', '99999999999999999999']) {
      const text = lines(HEADER14, ROW_A.join(','), '', [badId, ...ROW_B.slice(1)].join(','));
      const err = dataErrorOf(() => parseStormCsv(text, 'details-1950.csv'));
      const why = badId.length > 15 ? 'is too large (above 2^53 - 1)' : 'is not a non-negative integer';
      expect(err.message).toBe(`details-1950.csv, line 4: event_id ${JSON.stringify(badId)} ${why}`);
      // The library path (quoted files) must say exactly the same.
      expect(dataErrorOf(() => parseWithLibrary(text, 'details-1950.csv')).message).toBe(err.message);
    }
  });

  it('keeps the message one line even when the bad id holds a newline', () => {
    const text = lines(HEADER14, ['"12\n34"', ...ROW_B.slice(1)].join(','));
    const err = dataErrorOf(() => parseStormCsv(text, 'q.csv'));
    expect(err.message).toBe('q.csv, line 2: event_id "12\\n34" is not a non-negative integer');
  });

  it('rejects a row with the wrong number of fields, naming its line, on both paths', () => {
    const text = lines(HEADER14, ROW_A.join(','), ROW_B.slice(0, 12).join(','));
    const err = dataErrorOf(() => parseStormCsv(text, 'details-1950.csv'));
    expect(err.message).toBe('details-1950.csv, line 3: row has 12 fields but the header has 14');
    expect(dataErrorOf(() => parseWithLibrary(text, 'details-1950.csv')).message).toBe(err.message);
  });
});

describe('fast path and csv-parse agree', () => {
  const field = fc.stringMatching(/^[A-Za-z0-9 .()/'-]{0,12}$/);
  const record = fc.tuple(fc.nat({ max: 99_999_999 }), fc.array(field, { minLength: 13, maxLength: 13 }));

  it('property: identical records on random unquoted files (line endings, blank lines, BOM)', () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 30 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.boolean(),
        fc.nat({ max: 3 }),
        (rows, eol, bom, finalEol, blankEvery) => {
          const out: string[] = [HEADER14];
          rows.forEach(([id, rest], i) => {
            out.push([String(id), ...rest].join(','));
            if (blankEvery > 0 && i % blankEvery === 0) out.push('');
          });
          const text = (bom ? '\uFEFF' : '') + out.join(eol) + (finalEol ? eol : '');
          const fast = parseStormCsv(text);
          expect(fast).toEqual(parseWithLibrary(text));
          expect(fast).toEqual(rows.map(([id, rest]) => [String(id), ...rest]));
        },
      ),
    );
  });

  it('property: identical records and errors when stray \\r characters appear', () => {
    // A \r not followed by \n is data on both paths; a field ending in \r before an LF
    // loses that \r on both (it is then part of a CRLF delimiter). Line numbers in errors
    // may differ here: csv-parse's line counter also counts a lone \r, the fast path counts
    // \n only (what grep -n and editors' go-to-line show). Files with lone \r are not a
    // real input, so the test masks the number rather than the code chasing it.
    const messy = fc.stringMatching(/^[a-z0-9\r]{0,4}$/);
    const line = fc.array(messy, { minLength: 14, maxLength: 14 }).map((f) => ['7', ...f.slice(1)].join(','));
    fc.assert(
      fc.property(fc.array(fc.oneof(line, messy), { maxLength: 8 }), fc.constantFrom('\n', '\r\n'), (ls, eol) => {
        const text = [HEADER14, ...ls].join(eol);
        const outcome = (parse: (t: string) => StormRecord[]) => {
          try {
            return parse(text);
          } catch (err) {
            return (err as Error).message.replace(/line \d+/, 'line N');
          }
        };
        expect(outcome(parseStormCsv)).toEqual(outcome(parseWithLibrary));
      }),
    );
  });

  it('treats a \\r at the very end (no \\n after it) as data, like csv-parse', () => {
    const text = `${HEADER14}\n${ROW_C.join(',')}\r`;
    expect(parseStormCsv(text)).toEqual([[...ROW_C.slice(0, 13), '\r']]);
    expect(parseWithLibrary(text)).toEqual(parseStormCsv(text));
  });
});

describe('finding and loading files', () => {
  let tmp: string;
  const text1950 = lines(HEADER14, ROW_A.join(','), ROW_B.join(','));

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ringdht-data-'));
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A fresh subdirectory holding the given files. */
  function dirWith(name: string, files: Record<string, string | Buffer>): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
    return dir;
  }

  it('loads a gzipped course file', async () => {
    const dir = dirWith('gz', { 'details-1950.csv.gz': zlib.gzipSync(text1950) });
    expect(findDatasetFile(dir, 1950)).toBe(path.join(dir, 'details-1950.csv.gz'));
    const ds = await loadDataset(dir, 1950);
    expect(ds).toEqual({ year: 1950, records: [ROW_A, ROW_B], source: path.join(dir, 'details-1950.csv.gz') });
  });

  it('loads a NOAA StormEvents file, gzipped, choosing the newest c-date', async () => {
    const noaa = lines(NOAA_HEADER, ...NOAA_ROWS);
    const dir = dirWith('noaa', {
      'StormEvents_details-ftp_v1.0_d2019_c20200219.csv.gz': zlib.gzipSync('garbage'),
      'StormEvents_details-ftp_v1.0_d2019_c20240117.csv.gz': zlib.gzipSync(noaa),
      'StormEvents_details-ftp_v1.0_d2018_c20250101.csv.gz': zlib.gzipSync('garbage'),
      'StormEvents_fatalities-ftp_v1.0_d2019_c20240117.csv.gz': zlib.gzipSync('garbage'),
    });
    expect(findDatasetFile(dir, 2019)).toBe(path.join(dir, 'StormEvents_details-ftp_v1.0_d2019_c20240117.csv.gz'));
    const ds = await loadDataset(dir, 2019);
    expect(ds.records.map(eventIdOf)).toEqual([5536849, 824151, 799001]);
  });

  it('prefers details-YYYY.csv, then .csv.gz, then NOAA names; uncompressed on a c-date tie', () => {
    const all = dirWith('prefer', {
      'details-1950.csv': text1950,
      'details-1950.csv.gz': zlib.gzipSync(text1950),
      'StormEvents_details-ftp_v1.0_d1950_c20210101.csv': text1950,
    });
    expect(findDatasetFile(all, 1950)).toBe(path.join(all, 'details-1950.csv'));
    const tie = dirWith('tie', {
      'StormEvents_details-ftp_v1.0_d1950_c20210101.csv.gz': zlib.gzipSync(text1950),
      'StormEvents_details-ftp_v1.0_d1950_c20210101.csv': text1950,
    });
    expect(findDatasetFile(tie, 1950)).toBe(path.join(tie, 'StormEvents_details-ftp_v1.0_d1950_c20210101.csv'));
    const upper = dirWith('upper', { 'DETAILS-1950.CSV': text1950 });
    expect(findDatasetFile(upper, 1950)).toBe(path.join(upper, 'DETAILS-1950.CSV'));
  });

  it('reports a missing file, directory or year as a DataError', async () => {
    const empty = dirWith('empty', { 'details-1951.csv': text1950 });
    expect(findDatasetFile(empty, 1950)).toBeNull();
    expect(findDatasetFile(path.join(tmp, 'nope'), 1950)).toBeNull();
    const err = dataErrorOf(() => checkDatasetReadable(empty, 1950));
    expect(err.message).toContain('no data file for 1950');
    expect(err.message).toContain('details-1950.csv');
    await expect(loadDataset(empty, 1950)).rejects.toBeInstanceOf(DataError);
    expect(dataErrorOf(() => checkDatasetReadable(path.join(tmp, 'nope'), 1950)).message).toMatch(/does not exist/);
    const file = path.join(empty, 'details-1951.csv');
    expect(dataErrorOf(() => checkDatasetReadable(file, 1950)).message).toMatch(/not a directory/);
    expect(dataErrorOf(() => checkDatasetReadable(empty, 19.5)).message).toMatch(/year/);
  });

  it('skips a directory that has a data file name', () => {
    const dir = dirWith('dirname', {});
    fs.mkdirSync(path.join(dir, 'details-1950.csv'));
    expect(findDatasetFile(dir, 1950)).toBeNull();
  });

  it('turns a corrupt gzip or a bad row into a DataError', async () => {
    const gz = zlib.gzipSync(text1950);
    const corrupt = dirWith('corrupt', { 'details-1950.csv.gz': gz.subarray(0, gz.length - 12) });
    const e1 = await loadDataset(corrupt, 1950).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DataError);
    expect((e1 as Error).message).toMatch(/not a valid gzip file/);
    const badRow = dirWith('badrow', { 'details-1950.csv': lines(HEADER14, ROW_A.join(','), 'x' + ROW_B.join(',')) });
    const e2 = await loadDataset(badRow, 1950).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(DataError);
    expect((e2 as Error).message).toBe(`${path.join(badRow, 'details-1950.csv')}, line 3: event_id "x10120412" is not a non-negative integer`);
  });
});
