#!/usr/bin/env node
// `npm run import -- <file> [--url URL] [--token TOKEN] [--errors PATH]`: uploads a file of users (NDJSON, or CSV with
// a header row) to POST /v1/imports as a stream, shows a progress bar (rows, rate, time left) until the import is done,
// prints the summary and writes its row errors to a file. Exits 1 if the import could not be created, 2 on bad usage.
const { createReadStream, createWriteStream, statSync } = require('node:fs');
const { once } = require('node:events');
const { Readable, Transform } = require('node:stream');
const { parseArgs } = require('node:util');
const cliProgress = require('cli-progress');

const USAGE = 'usage: npm run import -- <file.ndjson|file.csv> [--url http://127.0.0.1:3000] [--token TOKEN] [--errors PATH] [--format ndjson|csv]';
const CONTENT_TYPES = { ndjson: 'application/x-ndjson', csv: 'text/csv' };
const POLL_MS = 1000;
const ERRORS_PAGE = 1000;

class UsageError extends Error {}

function options(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: process.env.CAPA_ONBOARDING_URL ?? 'http://127.0.0.1:3000' },
        token: { type: 'string', default: process.env.CAPA_ONBOARDING_TOKEN ?? 'dev-inbound-token' },
        errors: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (positionals.length !== 1) throw new UsageError('one file to import is required');
  const file = positionals[0];
  const format = values.format ?? (/\.csv$/i.test(file) ? 'csv' : 'ndjson');
  if (!(format in CONTENT_TYPES)) throw new UsageError(`--format must be ndjson or csv, not ${format}`);
  return { file, format, url: values.url.replace(/\/+$/, ''), token: values.token, errorsPath: values.errors ?? `${file}.errors.ndjson` };
}

async function api(opts, method, path, init = {}) {
  const response = await fetch(`${opts.url}${path}`, {
    method,
    ...init,
    headers: { authorization: `Bearer ${opts.token}`, ...(init.headers ?? {}) },
  });
  const text = await response.text();
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body, location: response.headers.get('location') };
}

/** Streams the file up, with a bar for the bytes sent (the server stages the rows as they arrive). */
async function uploadFile(opts, bar) {
  const size = statSync(opts.file).size;
  bar.start(size, 0, { label: 'upload', unit: 'bytes', rate: '', left: '' });
  let sent = 0;
  const counted = createReadStream(opts.file).pipe(
    new Transform({
      transform(chunk, _encoding, done) {
        sent += chunk.length;
        bar.update(sent);
        done(null, chunk);
      },
    }),
  );
  const answer = await api(opts, 'POST', '/v1/imports', {
    body: Readable.toWeb(counted),
    duplex: 'half',
    headers: { 'content-type': CONTENT_TYPES[opts.format], 'content-length': String(size) },
  });
  bar.update(size);
  bar.stop();
  return answer;
}

const doneRows = (counts) => counts.rows - counts.pending;

/** Follows the import until no row is pending and it is no longer RUNNING; answers its last state. */
async function follow(opts, view, bar) {
  bar.start(view.counts.rows, doneRows(view.counts), { label: 'rows  ', unit: 'rows', rate: '', left: '' });
  while (view.status === 'RUNNING' || view.counts.pending > 0) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const answer = await api(opts, 'GET', `/v1/imports/${view.id}`);
    if (answer.status !== 200) throw new Error(`GET /v1/imports/${view.id} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    view = answer.body;
    bar.update(doneRows(view.counts), {
      rate: `${view.ratePerSecond}/s`,
      left: view.etaSeconds === null ? 'time left unknown' : `${view.etaSeconds} s left`,
    });
  }
  bar.stop();
  return view;
}

/** Every row error, page by page, as NDJSON lines; answers how many. */
async function writeRowErrors(opts, id) {
  const out = createWriteStream(opts.errorsPath);
  let written = 0;
  let cursor = null;
  do {
    const query = `?limit=${ERRORS_PAGE}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = await api(opts, 'GET', `/v1/imports/${id}/errors${query}`);
    if (page.status !== 200) throw new Error(`GET /v1/imports/${id}/errors answered ${page.status}`);
    for (const item of page.body.items) {
      if (!out.write(`${JSON.stringify(item)}\n`)) await once(out, 'drain');
      written += 1;
    }
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  out.end();
  await once(out, 'finish');
  return written;
}

function summary(view) {
  const { counts } = view;
  const lines = [
    `import ${view.id}: ${view.status}`,
    `  rows               ${counts.rows}`,
    `  created            ${counts.created}`,
    `  alreadyRegistered  ${counts.alreadyRegistered}`,
    `  invalid            ${counts.invalid}`,
    `  conflicts          ${counts.conflicts}`,
    `  failed             ${counts.failed}`,
    `  needsAttention     ${counts.needsAttention}`,
    `  cancelled          ${counts.cancelled}`,
  ];
  return lines.join('\n');
}

async function main() {
  const opts = options(process.argv.slice(2));
  const bar = new cliProgress.SingleBar(
    {
      format: '{label} [{bar}] {percentage}% | {value}/{total} {unit} | {rate} | {left}',
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let created;
  try {
    created = await uploadFile(opts, bar);
  } catch (error) {
    bar.stop();
    process.stderr.write(`import could not be created: ${error.cause?.message ?? error.message}\n`);
    return 1;
  }
  if (created.status !== 202) {
    const reason = typeof created.body === 'object' ? `${created.body.code}: ${created.body.message}` : String(created.body);
    process.stderr.write(`import could not be created (HTTP ${created.status}) ${reason}\n`);
    if (Array.isArray(created.body?.details)) for (const detail of created.body.details) process.stderr.write(`  ${detail.field ?? ''} ${detail.message}\n`);
    return 1;
  }
  process.stderr.write(`import ${created.body.id} created (${created.location}); registering its rows at Capa\n`);
  const view = await follow(opts, created.body, bar);
  process.stdout.write(`${summary(view)}\n`);
  const errors = await writeRowErrors(opts, view.id);
  process.stdout.write(errors > 0 ? `${errors} row error(s) written to ${opts.errorsPath}\n` : 'no row errors\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `${error.message}\n` : ''}${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`import failed: ${error.message}\n`);
    process.exit(3);
  },
);
