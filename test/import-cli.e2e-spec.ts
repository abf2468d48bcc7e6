import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ndjson } from './support/imports';
import { INBOUND_TOKEN, useTestApp } from './support/test-app';

const CLI = join(__dirname, '..', 'scripts', 'import.js');

/** `npm run import -- ...` as a real child process; answers its exit code and output. */
async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('npm run import (the CLI, against the running app)', () => {
  const service = useTestApp({ env: { IMPORT_CAPA_RPS: '100' } });
  const dir = mkdtempSync(join(tmpdir(), 'capa-import-cli-'));

  it('uploads, follows the import to the end, prints the summary and writes the row errors to a file', async () => {
    const tag = `cli-${Date.now()}`;
    const file = join(dir, 'users.ndjson');
    const rows: unknown[] = Array.from({ length: 150 }, (_, i) => ({ externalUserId: `${tag}-${i}`, method: 'EMAIL', identifier: `u${i}@example.com` }));
    rows.splice(10, 0, { externalUserId: `${tag}-bad`, method: 'EMAIL', identifier: 'nope' });
    rows.push('not json');
    writeFileSync(file, ndjson(rows));

    const result = await runCli([file, '--url', service.url, '--token', INBOUND_TOKEN]);
    expect(result.stderr).toMatch(/import [0-9a-f-]{36} created/);
    // The bar's last frame: rows done, the measured rate and the time left.
    expect(result.stderr).toMatch(/rows +\[.*\| 152\/152 rows \| [\d.]+\/s \| 0 s left/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/COMPLETED/);
    expect(result.stdout).toMatch(/rows +152\n/);
    expect(result.stdout).toMatch(/created +150\n/);
    expect(result.stdout).toMatch(/invalid +2\n/);
    expect(result.stdout).toContain(`2 row error(s) written to ${file}.errors.ndjson`);
    const errors = readFileSync(`${file}.errors.ndjson`, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(errors).toEqual([
      expect.objectContaining({ line: 11, externalUserId: `${tag}-bad`, code: 'VALIDATION_FAILED' }),
      expect.objectContaining({ line: 152, code: 'MALFORMED_JSON' }),
    ]);
  }, 60_000);

  it('takes CSV by its extension', async () => {
    const file = join(dir, 'users.csv');
    writeFileSync(file, `externalUserId,alias\ncsv-cli-${Date.now()},Ann\n`);
    const result = await runCli([file, '--url', service.url, '--token', INBOUND_TOKEN, '--errors', join(dir, 'csv-errors.ndjson')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/created +1\n/);
    expect(result.stdout).toContain('no row errors');
  }, 30_000);

  it.each([
    ['a CSV without a header', 'users-noheader.csv', 'u1,EMAIL,a@example.com\n', INBOUND_TOKEN, /HTTP 400.*INVALID_IMPORT_FILE/],
    ['a wrong token', 'users2.ndjson', '{"externalUserId":"x"}\n', 'wrong-token', /HTTP 401/],
  ])('exits non-zero when the import cannot be created: %s', async (_name, name, text, token, message) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    const result = await runCli([file, '--url', service.url, '--token', token]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('exits non-zero for a missing file or an unreachable service, and 2 without a file', async () => {
    expect((await runCli([join(dir, 'missing.ndjson'), '--url', service.url])).code).toBe(1);
    const file = join(dir, 'one.ndjson');
    writeFileSync(file, '{"externalUserId":"x"}\n');
    expect((await runCli([file, '--url', 'http://127.0.0.1:1'])).code).toBe(1);
    expect((await runCli([])).code).toBe(2);
  });
});
