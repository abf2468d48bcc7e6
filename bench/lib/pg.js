'use strict';
// One short-lived PostgreSQL session for a bench's set-up and clean-up (create, seed, count, drop).
const { Client } = require('pg');

/** Runs `fn` with a connected client on `url` and always closes it. */
async function withClient(url, fn) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

module.exports = { withClient };
