import type { Readable } from 'node:stream';
import { importRows, type ImportFormat, type ImportLimits } from './import-parser';
import type { ParsedRow } from './import-row';

/** Rows (valid and invalid) per batch written to PostgreSQL. */
export const BATCH_ROWS = 2000;

/**
 * Parsed rows as the staging statements read them (`json_to_recordset`), in line order, as UTF-8 JSON bytes.
 */
export interface RowBatch {
  /** Valid rows: `[{line, external_user_id, method, identifier, user_type, alias, fingerprint}, ...]`. */
  signups: Buffer;
  signupCount: number;
  /** Row errors: `[{line, external_user_id, code, message, details}, ...]`. */
  errors: Buffer;
  errorCount: number;
}

/** The upload's rows, parsed and validated as POST /v1/users bodies (import-row), in batches. */
export async function* parsedBatches(body: Readable, format: ImportFormat, limits: ImportLimits, batchSize = BATCH_ROWS): AsyncGenerator<RowBatch> {
  const batcher = new RowBatcher(batchSize);
  for await (const row of importRows(body, format, limits)) {
    const batch = batcher.add(row);
    if (batch !== undefined) yield batch;
  }
  const last = batcher.flush();
  if (last !== undefined) yield last;
}

/**
 * Groups parsed rows into batches of `size` rows (valid and invalid together). Each row is written out as JSON bytes
 * (outside V8's heap) as soon as it is added, so nothing of a row outlives its own parsing: the garbage of a
 * million-row upload dies young instead of being promoted and growing the heap with the upload's length.
 */
export class RowBatcher {
  private readonly signups = new JsonArrayWriter();
  private readonly errors = new JsonArrayWriter();

  constructor(private readonly size: number) {}

  /** Adds a row; answers the full batch when this row completed one. */
  add(row: ParsedRow): RowBatch | undefined {
    if (row.ok) {
      const { request } = row;
      this.signups.add(
        JSON.stringify({
          line: row.line,
          external_user_id: request.externalUserId,
          method: request.method,
          identifier: wellFormed(request.identifier),
          user_type: request.userType,
          alias: wellFormed(request.alias),
          fingerprint: request.fingerprint,
        }),
      );
    } else {
      const { error } = row;
      const fields = { line: error.line, external_user_id: error.externalUserId, code: error.code, message: error.message, details: error.details };
      // Row errors may quote what was sent: U+0000 (which PostgreSQL cannot store as text) is written as U+FFFD.
      this.errors.add(JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'string' ? wellFormed(value).replace(/\u0000/g, '\ufffd') : value)));
    }
    return this.signups.count + this.errors.count >= this.size ? this.flush() : undefined;
  }

  /** The rows added since the last batch, if any. */
  flush(): RowBatch | undefined {
    if (this.signups.count + this.errors.count === 0) return undefined;
    const signupCount = this.signups.count;
    const errorCount = this.errors.count;
    return { signups: this.signups.take(), signupCount, errors: this.errors.take(), errorCount };
  }
}

const BLOCK_BYTES = 256 * 1024;

/** A JSON array written element by element into byte blocks. */
class JsonArrayWriter {
  count = 0;
  private blocks: Buffer[] = [];
  private block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
  private used = 0;

  add(element: string): void {
    this.append(this.count === 0 ? '[' : ',');
    this.append(element);
    this.count += 1;
  }

  /** The array so far (`[]` when empty); the writer starts over. */
  take(): Buffer {
    this.append(this.count === 0 ? '[' : '');
    this.append(']');
    const bytes = Buffer.concat([...this.blocks, this.block.subarray(0, this.used)]);
    this.blocks = [];
    this.used = 0;
    this.count = 0;
    return bytes;
  }

  private append(text: string): void {
    if (this.used + Buffer.byteLength(text) > this.block.length) {
      this.blocks.push(this.block.subarray(0, this.used));
      this.block = Buffer.allocUnsafeSlow(Math.max(BLOCK_BYTES, Buffer.byteLength(text)));
      this.used = 0;
    }
    this.used += this.block.write(text, this.used);
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * A lone UTF-16 surrogate becomes U+FFFD, as writing the string as UTF-8 text does (the fingerprint, POST /v1/users):
 * JSON would carry it as an escape that PostgreSQL refuses.
 */
function wellFormed<T extends string | null>(text: T): T {
  return text !== null && LONE_SURROGATE.test(text) ? (text.replace(/\p{Cs}/gu, '\ufffd') as T) : text;
}
