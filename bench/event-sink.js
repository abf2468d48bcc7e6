'use strict';
// A local endpoint for the events benchmark: answers every POST 204 and counts them per path (GET /counts).
// It does not verify signatures: the benchmark measures what the service can push, not a receiver's HMAC cost.
const { createServer } = require('node:http');

const counts = {};
createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/counts') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
    return;
  }
  request.resume();
  request.on('end', () => {
    counts[request.url] = (counts[request.url] ?? 0) + 1;
    response.writeHead(204).end();
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
