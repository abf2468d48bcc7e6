'use strict';
// A local endpoint for the service's event webhooks: verifies each delivery's Standard Webhooks signature and prints
// the event. Usage: EVENT_WEBHOOK_SECRET=whsec_... node scripts/event-receiver.js [port]   (default 4000)
// Then start the service with EVENT_WEBHOOK_URLS=http://127.0.0.1:4000/events and the same EVENT_WEBHOOK_SECRET.
const { createServer } = require('node:http');
const { Webhook } = require('standardwebhooks');

const secret = process.env.EVENT_WEBHOOK_SECRET;
if (!secret) {
  process.stderr.write('Set EVENT_WEBHOOK_SECRET (whsec_...), the same value the service uses\n');
  process.exit(1);
}
const webhook = new Webhook(secret);
const port = Number(process.argv[2] ?? 4000);

createServer(async (request, response) => {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  try {
    const event = webhook.verify(Buffer.concat(chunks).toString('utf8'), request.headers);
    process.stdout.write(`${JSON.stringify(event)}\n`);
    response.writeHead(204).end();
  } catch (error) {
    process.stderr.write(`rejected ${request.headers['webhook-id'] ?? '(no webhook-id)'}: ${error.message}\n`);
    response.writeHead(401).end();
  }
}).listen(port, '127.0.0.1', () => process.stderr.write(`Receiving events on http://127.0.0.1:${port}/events\n`));
