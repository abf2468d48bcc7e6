'use strict';
// A TCP proxy in front of PostgreSQL that counts what each client sends (BENCH_COUNT_QUERIES=1 only: it adds a hop,
// so those runs are diagnostics, not results). One listener per server under test; over IPC:
//   { cmd: 'counts' } -> { counts: { <name>: { roundTrips, statements, messages: { Q, P, B, E, S, ... } } } }
// roundTrips = Sync + simple Query messages (each waits for the server); statements = Execute + simple Query.
// Env: PG_HOST, PG_PORT, LISTEN = name:port,name:port

const net = require('node:net');

const upstream = { host: process.env.PG_HOST || '127.0.0.1', port: Number(process.env.PG_PORT || 5432) };
const counts = {};

function counter(name) {
  counts[name] = { messages: {} };
  const messages = counts[name].messages;
  return (socket) => {
    const server = net.connect(upstream);
    let pending = Buffer.alloc(0);
    let startup = true;
    socket.on('data', (chunk) => {
      server.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let offset = 0;
      for (;;) {
        if (startup) {
          if (pending.length - offset < 8) break;
          const length = pending.readInt32BE(offset);
          if (pending.length - offset < length) break;
          const code = pending.readInt32BE(offset + 4);
          offset += length;
          // SSLRequest / GSSENCRequest are followed by another untyped startup message.
          if (code !== 80877103 && code !== 80877104) startup = false;
          continue;
        }
        if (pending.length - offset < 5) break;
        const length = pending.readInt32BE(offset + 1);
        if (pending.length - offset < length + 1) break;
        const type = String.fromCharCode(pending[offset]);
        messages[type] = (messages[type] ?? 0) + 1;
        offset += length + 1;
      }
      pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset);
    });
    server.on('data', (chunk) => socket.write(chunk));
    const close = () => {
      socket.destroy();
      server.destroy();
    };
    socket.on('error', close);
    server.on('error', close);
    socket.on('close', close);
    server.on('close', close);
  };
}

for (const entry of (process.env.LISTEN || '').split(',').filter(Boolean)) {
  const [name, port] = entry.split(':');
  net.createServer(counter(name)).listen(Number(port), '127.0.0.1');
}

process.on('message', (message) => {
  if (message.cmd !== 'counts') return;
  const out = {};
  for (const [name, { messages }] of Object.entries(counts)) {
    out[name] = {
      roundTrips: (messages.S ?? 0) + (messages.Q ?? 0),
      statements: (messages.E ?? 0) + (messages.Q ?? 0),
      messages: { ...messages },
    };
  }
  process.send({ counts: out });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
