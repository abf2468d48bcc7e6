'use strict';
// The webhook scenario's deliveries: Capa's KYC events for seeded users, signed like Capa (hex HMAC-SHA256 of the body).

const { createHmac } = require('node:crypto');

const WEBHOOK_SECRET = 'bench-webhook-secret';
const KYC_EVENTS = ['CREATED_KYC', 'REVIEW_NEEDED_KYC', 'VERIFIED_USER', 'REJECTED_KYC'];

/** Delivery `n` for this user: the events cycle, so most deliveries change a status (some are duplicates or ignored). */
function signedDeliveryOf(externalUserId, n, secret = WEBHOOK_SECRET) {
  const body = JSON.stringify({ type: 'KYC', event: KYC_EVENTS[n % KYC_EVENTS.length], externalUserId });
  return { body, signature: createHmac('sha256', secret).update(body).digest('hex') };
}

module.exports = { WEBHOOK_SECRET, signedDeliveryOf };
