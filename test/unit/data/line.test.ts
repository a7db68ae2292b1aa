// Records travel and are stored as CSV lines; splitting a line must give back exactly the fields.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eventIdOfLine, fromLine, jsonStringBytes, toLine } from '../../../src/data/line.js';
import { parseStormCsv, parseStormLines } from '../../../src/data/csv.js';
import { DATA_DIR as dataDir, DATA_LABEL } from '../../helpers/data.js';

const field = fc.string({ unit: 'grapheme', maxLength: 30 });
const record = fc.tuple(fc.nat({ max: 2 ** 40 }), fc.array(field, { minLength: 13, maxLength: 13 })).map(([id, rest]) => [String(id), ...rest]);

describe('record lines', () => {
  it('fromLine(toLine(r)) gives back r for any fields, commas, quotes and newlines included', () => {
    fc.assert(fc.property(record, (r) => {
      expect(fromLine(toLine(r))).toEqual(r);
    }));
  });

  it('eventIdOfLine reads the leading id without splitting the line', () => {
    fc.assert(fc.property(record, (r) => {
      expect(eventIdOfLine(toLine(r))).toBe(Number(r[0]));
    }));
    expect(eventIdOfLine('abc,def')).toBeNaN();
    expect(eventIdOfLine(',5')).toBeNaN();
  });

  it('a line without 14 fields is refused, not guessed', () => {
    expect(fromLine('1,2,3')).toBeNull();
    expect(fromLine('1,"unterminated,2,3,4,5,6,7,8,9,10,11,12,13')).toBeNull();
  });

  it('jsonStringBytes never underestimates the encoded size (the batch budget relies on it)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
      expect(jsonStringBytes(s)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(s)));
    }));
    expect(jsonStringBytes('5536849,ALABAMA')).toBe(Buffer.byteLength(JSON.stringify('5536849,ALABAMA')));
  });
});

describe('parseStormLines: the lines a peer stores are the records of parseStormCsv', () => {
  // Both files are always there: the course files, or synthetic ones (test/helpers/test-data.ts).
  const files = ['details-1950.csv', 'details-1996.csv'];

  it.each(files)(`%s (${DATA_LABEL}): same records, in order, via the sliced fast path`, (f) => {
    const text = readFileSync(path.join(dataDir, f), 'utf8');
    expect(parseStormLines(text, f)).toEqual(parseStormCsv(text, f).map(toLine));
  });

  it('13 columns, other column orders and quoted fields fall back to field parsing', () => {
    const thirteen = 'event_id,state,year,month_name,event_type,cz_type,cz_name,injuries_direct,injuries_indirect,deaths_direct,deaths_indirect,damage_property,damage_crops\n1,A,1950,May,Tornado,C,X,0,0,0,0,0K,0\n';
    expect(parseStormLines(thirteen)).toEqual(['1,A,1950,May,Tornado,C,X,0,0,0,0,0K,0,']);
    const quoted = 'EVENT_ID,STATE,YEAR,MONTH_NAME,EVENT_TYPE,CZ_TYPE,CZ_NAME,INJURIES_DIRECT,INJURIES_INDIRECT,DEATHS_DIRECT,DEATHS_INDIRECT,DAMAGE_PROPERTY,DAMAGE_CROPS,TOR_F_SCALE\r\n"7","NEW YORK","1950","May","Tornado","C","KINGS, NY","0","0","0","0","0K","0","F1"\r\n';
    expect(parseStormLines(quoted)).toEqual(['7,NEW YORK,1950,May,Tornado,C,"KINGS, NY",0,0,0,0,0K,0,F1']);
  });

  it('a short row or a bad event id is refused with its line number, as by parseStormCsv', () => {
    const header = 'event_id,state,year,month_name,event_type,cz_type,cz_name,injuries_direct,injuries_indirect,deaths_direct,deaths_indirect,damage_property,damage_crops,tor_f_scale\n';
    expect(() => parseStormLines(header + '1,A\n', 'f.csv')).toThrow(/f\.csv, line 2: row has 2 fields/);
    expect(() => parseStormLines(header + 'x1,A,1950,May,Tornado,C,X,0,0,0,0,0K,0,\n', 'f.csv')).toThrow(/line 2: event_id "x1"/);
  });
});
