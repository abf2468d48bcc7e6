'use strict';
// Load generator, run as a separate process (forked by bench/run.js, driven over IPC).
// One message {id, spec} -> one answer {id, result} (or {id, error}). A spec:
//   { url, token, connections, warmupS, durationS, warmupAmount?, amount?, timeoutS?,
//     ids: { kind: 'random', prefix, count }                      random index in [0, count)
//        | { kind: 'unique', prefix, start, count, stride, offset? } each index of [start, start+count) once, in the
//                                                                   order (offset+n)*stride mod count (stride coprime
//                                                                   to count); past the end, ids repeat (counted)
//        | { kind: 'new', prefix }                                 a fresh index per request
//     request: 'post' | 'get' }
// The warm-up run (duration or amount) is discarded; the id sequence continues across warm-up and measurement.
// Latencies are recorded per response with sub-millisecond precision (autocannon's own histogram keeps whole ms).

const autocannon = require('autocannon');
const { externalIdOf, bodyOf } = require('./lib/payload');
const { signedDeliveryOf } = require('./lib/webhook-payload');

function idSource(spec) {
  const ids = spec.ids;
  let next = 0;
  let repeats = 0;
  let take;
  if (ids.kind === 'random') {
    take = () => externalIdOf(ids.prefix, Math.floor(Math.random() * ids.count));
  } else if (ids.kind === 'unique') {
    const offset = ids.offset ?? 0;
    take = () => {
      const n = next++;
      if (offset + n >= ids.count) repeats++;
      return externalIdOf(ids.prefix, ids.start + (((offset + n) * ids.stride) % ids.count));
    };
  } else if (ids.kind === 'new') {
    take = () => externalIdOf(ids.prefix, next++);
  } else {
    throw new Error(`unknown ids kind ${ids.kind}`);
  }
  return { take, stats: () => ({ issued: next, repeats }) };
}

function runOnce(spec, source, phase) {
  const url = new URL(spec.url);
  const headers = { authorization: `Bearer ${spec.token}` };
  const webhook = spec.request === 'webhook';
  const post = spec.request === 'post' || webhook;
  let deliveries = 0;
  if (post) headers['content-type'] = 'application/json';
  const opts = {
    url: url.origin,
    connections: spec.connections,
    pipelining: 1,
    timeout: spec.timeoutS ?? 10,
    headers,
    requests: [
      {
        method: post ? 'POST' : 'GET',
        setupRequest: (req) => {
          const id = source.take();
          if (webhook) {
            const delivery = signedDeliveryOf(id, deliveries++);
            req.path = '/webhooks/capa';
            req.body = delivery.body;
            req.headers = { ...req.headers, 'capa-signature': delivery.signature };
          } else if (post) {
            req.path = '/v1/users';
            req.body = bodyOf(id);
          } else {
            req.path = `/v1/users/${encodeURIComponent(id)}`;
          }
          return req;
        },
      },
    ],
  };
  const amount = phase === 'warmup' ? spec.warmupAmount : spec.amount;
  if (amount) opts.amount = amount;
  else opts.duration = phase === 'warmup' ? spec.warmupS : spec.durationS;

  const latencies = [];
  const startedAt = performance.now();
  let lastAt = startedAt;
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (error, result) =>
      error ? reject(error) : resolve({ result, latencies, elapsedS: (lastAt - startedAt) / 1000 }),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastAt = performance.now();
    });
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

async function run(spec, onMeasureStart) {
  const source = idSource(spec);
  const hasWarmup = spec.warmupAmount ? spec.warmupAmount > 0 : spec.warmupS > 0;
  const warmup = hasWarmup ? await runOnce(spec, source, 'warmup') : null;
  onMeasureStart();
  // Start to last response: autocannon only notices the end on its 1 s sampling tick, so its own duration is
  // rounded up to whole seconds for fixed-amount runs.
  const { result, latencies, elapsedS } = await runOnce(spec, source, 'measure');
  const sorted = Float64Array.from(latencies).sort();
  const statusCounts = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats || {})) statusCounts[code] = Number(count);
  const responses = Object.values(statusCounts).reduce((a, b) => a + b, 0);
  const expected = statusCounts[String(spec.expectStatus)] ?? 0;
  const round = (x) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    durationS: result.duration,
    elapsedS,
    connections: spec.connections,
    responses,
    reqPerSec: elapsedS > 0 ? round(responses / elapsedS) : 0,
    autocannonReqPerSecMean: result.requests.average,
    latencyMs: {
      mean: round(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.length ? sorted[sorted.length - 1] : null),
    },
    autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCounts,
    unexpected: responses - expected,
    ids: source.stats(),
    warmup: warmup
      ? { responses: Object.values(warmup.result.statusCodeStats || {}).reduce((a, b) => a + Number(b.count), 0), errors: warmup.result.errors, non2xx: warmup.result.non2xx }
      : null,
  };
}

process.on('message', (message) => {
  run(message.spec, () => process.send({ id: message.id, event: 'measure-start' })).then(
    (result) => process.send({ id: message.id, result }),
    (error) => process.send({ id: message.id, error: String(error && error.stack ? error.stack : error) }),
  );
});
process.on('disconnect', () => process.exit(0));
