import { Readable } from 'node:stream';
import { importRows, type ImportFormat } from './import-parser';
import type { ParsedRow } from './import-row';

const LIMITS = { maxRows: 1000, maxBytes: 1024 * 1024 };

async function rowsOf(chunks: string[], format: ImportFormat, limits = LIMITS): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const row of importRows(Readable.from(chunks.map((chunk) => Buffer.from(chunk))), format, limits)) rows.push(row);
  return rows;
}

const summary = (rows: ParsedRow[]) => rows.map((row) => (row.ok ? [row.line, row.request.externalUserId] : [row.error.line, row.error.code]));

describe('importRows (NDJSON)', () => {
  it('numbers lines as in the file, skips blank lines, and splits across chunks', async () => {
    const rows = await rowsOf(['{"externalUserId":"a"}\n\n  \r\n{"extern', 'alUserId":"b"}\r\n', 'nope\n{"externalUserId":"c"}'], 'ndjson');
    expect(summary(rows)).toEqual([
      [1, 'a'],
      [4, 'b'],
      [5, 'MALFORMED_JSON'],
      [6, 'c'],
    ]);
  });

  it('makes a line over 16 KiB a row error without keeping it', async () => {
    const rows = await rowsOf(['{"externalUserId":"a"}\n{"alias":"', 'x'.repeat(20_000), '"}\n{"externalUserId":"b"}\n'], 'ndjson');
    expect(summary(rows)).toEqual([
      [1, 'a'],
      [2, 'PAYLOAD_TOO_LARGE'],
      [3, 'b'],
    ]);
  });

  it.each([['externalUserId,method\nu1,NONE\n'], ['[{"externalUserId":"a"}]\n'], ['\x00\x01binary\n']])('rejects a file that is not NDJSON: %j', async (text) => {
    await expect(rowsOf([text], 'ndjson')).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_IMPORT_FILE' });
  });

  it('rejects an empty file', async () => {
    await expect(rowsOf(['\n\n'], 'ndjson')).rejects.toMatchObject({ statusCode: 400 });
  });

  it('stops at the row and byte limits with 413', async () => {
    const lines = Array.from({ length: 4 }, (_, i) => `{"externalUserId":"u${i}"}\n`);
    await expect(rowsOf(lines, 'ndjson', { maxRows: 3, maxBytes: 1000 })).rejects.toMatchObject({ statusCode: 413 });
    await expect(rowsOf(lines, 'ndjson', { maxRows: 4, maxBytes: 50 })).rejects.toMatchObject({ statusCode: 413 });
    expect(await rowsOf(lines, 'ndjson', { maxRows: 4, maxBytes: 1000 })).toHaveLength(4);
  });

  it('passes on the error of a cut-off upload', async () => {
    const body = new Readable({ read() {} });
    body.push('{"externalUserId":"a"}\n');
    setImmediate(() => body.destroy(new Error('aborted')));
    const consume = async () => {
      for await (const row of importRows(body, 'ndjson', LIMITS)) void row;
    };
    await expect(consume()).rejects.toThrow('aborted');
  });
});

describe('importRows (CSV)', () => {
  it('reads the header, numbers lines from it, empty cells are absent, a quoted field may span lines', async () => {
    const rows = await rowsOf(['\ufeffexternalUserId,method,alias\r\n', 'a,,\r\n\r\nb,NONE,"two\nlines"\n', 'c,EMAIL,\n', 'd\n'], 'csv');
    expect(summary(rows)).toEqual([
      [2, 'a'],
      [4, 'b'],
      [6, 'VALIDATION_FAILED'],
      [7, 'VALIDATION_FAILED'],
    ]);
  });

  it.each([
    ['u1,EMAIL,a@b.co\n', /unknown columns/],
    ['externalUserId,email\nu1,a@b.co\n', /unknown columns/],
    ['', /empty/],
    ['externalUserId\n"unterminated\n', /not valid CSV/],
  ])('rejects %j', async (text, message) => {
    await expect(rowsOf([text], 'csv')).rejects.toMatchObject({ statusCode: 400, code: 'INVALID_IMPORT_FILE', message: expect.stringMatching(message) });
  });

  it('holds the CSV to the byte limit', async () => {
    await expect(rowsOf(['externalUserId\n', 'u'.repeat(100), '\n'], 'csv', { maxRows: 10, maxBytes: 50 })).rejects.toMatchObject({ statusCode: 413 });
  });
});
