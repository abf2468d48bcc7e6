import { Readable } from 'node:stream';
import { rowFromJsonLine } from './import-row';
import { parsedBatches, RowBatcher, type RowBatch } from './row-batch';

const decode = (batch: RowBatch) => ({ signups: JSON.parse(batch.signups.toString('utf8')), errors: JSON.parse(batch.errors.toString('utf8')) });

describe('RowBatcher: rows as the JSON the staging statements read', () => {
  it('cuts a batch every `size` rows, valid and invalid together, in line order', () => {
    const batcher = new RowBatcher(3);
    const batches: RowBatch[] = [];
    const lines = ['{"externalUserId":"a"}', 'nope', '{"externalUserId":"b","method":"EMAIL","identifier":"X@Example.COM"}', '{"externalUserId":"c"}'];
    lines.forEach((text, index) => {
      const batch = batcher.add(rowFromJsonLine(text, index + 1));
      if (batch !== undefined) batches.push(batch);
    });
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ signupCount: 2, errorCount: 1 });
    const first = decode(batches[0]);
    expect(first.signups).toEqual([
      { line: 1, external_user_id: 'a', method: 'NONE', identifier: null, user_type: null, alias: null, fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) },
      { line: 3, external_user_id: 'b', method: 'EMAIL', identifier: 'X@example.com', user_type: null, alias: null, fingerprint: expect.any(String) },
    ]);
    expect(first.errors).toEqual([{ line: 2, external_user_id: null, code: 'MALFORMED_JSON', message: expect.any(String), details: [] }]);
    const rest = batcher.flush()!;
    expect(decode(rest)).toEqual({ signups: [expect.objectContaining({ line: 4, external_user_id: 'c' })], errors: [] });
    expect(batcher.flush()).toBeUndefined();
  });

  it('keeps every character of a row across its byte blocks (rows larger than a block, multi-byte text)', () => {
    const batcher = new RowBatcher(10_000);
    const alias = 'ü€😀'.repeat(30);
    for (let i = 0; i < 4000; i++) batcher.add(rowFromJsonLine(JSON.stringify({ externalUserId: `u${i}`, alias }), i + 1));
    const { signups } = decode(batcher.flush()!);
    expect(signups).toHaveLength(4000);
    expect(signups.every((row: { alias: string }, i: number) => row.alias === alias && signups[i].external_user_id === `u${i}`)).toBe(true);
  });

  it('writes a lone surrogate as U+FFFD, as UTF-8 text would store it (PostgreSQL refuses it in JSON)', () => {
    const batcher = new RowBatcher(10);
    batcher.add(rowFromJsonLine('{"externalUserId":"s1","alias":"a\\ud800b"}', 1));
    batcher.add(rowFromJsonLine('{"externalUserId":"s 2","\\udc00":1}', 2));
    const batch = batcher.flush()!;
    expect(batch.signups.toString('utf8')).not.toMatch(/\\ud[89a-f]/i);
    expect(batch.errors.toString('utf8')).not.toMatch(/\\ud[89a-f]/i);
    expect(decode(batch).signups[0].alias).toBe('a\ufffdb');
  });
});

describe('parsedBatches', () => {
  it('batches every row of the upload once, with the last partial batch', async () => {
    const body = Readable.from(Array.from({ length: 5 }, (_, i) => Buffer.from(`{"externalUserId":"u${i}"}\n`)));
    const batches: RowBatch[] = [];
    for await (const batch of parsedBatches(body, 'ndjson', { maxRows: 10, maxBytes: 1024 }, 2)) batches.push(batch);
    expect(batches.map((batch) => batch.signupCount)).toEqual([2, 2, 1]);
    expect(batches.flatMap((batch) => decode(batch).signups.map((row: { line: number }) => row.line))).toEqual([1, 2, 3, 4, 5]);
  });
});
