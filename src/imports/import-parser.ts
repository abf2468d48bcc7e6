import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { csvHeaderProblem, MAX_ROW_BYTES, oversizedRow, rowFromCsvRecord, rowFromJsonLine, type ParsedRow } from './import-row';
import { ImportTooLargeError, InvalidImportFileError } from './import.errors';

export type ImportFormat = 'ndjson' | 'csv';

export interface ImportLimits {
  maxRows: number;
  maxBytes: number;
}

const NEWLINE = 0x0a;
/** csv-parse holds one record in memory; past this a file is not a CSV of signups. */
const MAX_CSV_RECORD_BYTES = 1024 * 1024;

/**
 * The rows of an uploaded file, one at a time as the bytes arrive (never the whole file in memory), numbered by
 * their line in the file; blank lines are skipped. Throws InvalidImportFileError / ImportTooLargeError for the file
 * as a whole, and whatever the stream throws (a cut-off upload) as it is.
 */
export async function* importRows(body: Readable, format: ImportFormat, limits: ImportLimits): AsyncGenerator<ParsedRow> {
  let rows = 0;
  const rowsOf = format === 'ndjson' ? ndjsonRows(limitBytes(body, limits.maxBytes)) : csvRows(limitBytes(body, limits.maxBytes));
  for await (const row of rowsOf) {
    rows += 1;
    if (rows > limits.maxRows) throw new ImportTooLargeError(`An import holds at most ${limits.maxRows} rows`);
    yield row;
  }
  if (rows === 0) throw new InvalidImportFileError('The file holds no rows');
}

async function* limitBytes(body: Readable, maxBytes: number): AsyncGenerator<Buffer> {
  let bytes = 0;
  try {
    // Not destroyed when the file is refused early: the request's socket must still carry the answer.
    for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      bytes += buffer.length;
      if (bytes > maxBytes) throw new ImportTooLargeError(`An import is at most ${maxBytes} bytes`);
      yield buffer;
    }
  } finally {
    // The rest of a refused upload is read and dropped, so the client gets to read the answer.
    if (!body.readableEnded && !body.destroyed) body.resume();
  }
}

async function* ndjsonRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<ParsedRow> {
  let line = 1;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seenRow = false;
  const finish = (tail: Buffer | undefined): ParsedRow | undefined => {
    const oversized = pendingBytes + (tail?.length ?? 0) > MAX_ROW_BYTES;
    const bytes = oversized ? undefined : Buffer.concat(tail === undefined ? pending : [...pending, tail]);
    pending = [];
    pendingBytes = 0;
    if (bytes === undefined) return oversizedRow(line);
    const text = bytes.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return undefined;
    const row = rowFromJsonLine(text, line);
    if (!seenRow && !row.ok && !startsAsJsonObject(text)) {
      throw new InvalidImportFileError(`Line ${line} is not a JSON object: the file is not NDJSON (one POST /v1/users body per line)`);
    }
    seenRow = true;
    return row;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const row = finish(chunk.subarray(start, end));
      if (row !== undefined) yield row;
      line += 1;
      start = end + 1;
    }
    if (start < chunk.length) {
      // Past the limit the rest of the line is only counted, never kept.
      const rest = chunk.subarray(start);
      if (pendingBytes <= MAX_ROW_BYTES) pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  const last = finish(undefined);
  if (last !== undefined) yield last;
}

function startsAsJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

interface CsvRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

async function* csvRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<ParsedRow> {
  const parser = parse({
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: MAX_CSV_RECORD_BYTES,
  });
  const feeding = feed(chunks, parser);
  let header: string[] | undefined;
  try {
    for await (const { record, raw, info } of parser as AsyncIterable<CsvRecord>) {
      if (header === undefined) {
        header = record.map((column) => column.trim());
        const problem = csvHeaderProblem(header);
        if (problem !== null) throw new InvalidImportFileError(problem.message, problem.details);
        continue;
      }
      if (record.every((cell) => cell.trim() === '')) continue;
      const line = startLine(raw, info.lines);
      yield Buffer.byteLength(raw) > MAX_ROW_BYTES ? oversizedRow(line) : rowFromCsvRecord(header, record, line);
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      throw new InvalidImportFileError(`The file is not valid CSV: ${(error as Error).message}`);
    }
    throw error;
  } finally {
    parser.destroy();
  }
  await feeding;
  if (header === undefined) throw new InvalidImportFileError('The CSV file is empty: its first line must be a header of field names');
}

/** Writes the chunks into the parser with backpressure; a failing source fails the parser, so its reader sees it. */
async function feed(chunks: AsyncIterable<Buffer>, parser: ReturnType<typeof parse>): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (!parser.write(chunk)) await new Promise<void>((resolve) => parser.once('drain', resolve).once('close', resolve));
      if (parser.destroyed) return;
    }
    parser.end();
  } catch (error) {
    parser.destroy(error as Error);
  }
}

/** csv-parse counts the line a record ends on; a quoted field may span lines, so count back to where it began. */
function startLine(raw: string, endLine: number): number {
  const record = raw.replace(/^[\r\n]+/, '').replace(/\r?\n$/, '');
  let newlines = 0;
  for (let at = record.indexOf('\n'); at !== -1; at = record.indexOf('\n', at + 1)) newlines += 1;
  return endLine - newlines;
}
