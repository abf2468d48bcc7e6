import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The caller's `x-request-id` when it is sane, else a fresh UUID; stored on the raw request for pino-http. */
export function requestIdFor(request: IncomingMessage): string {
  const offered = request.headers['x-request-id'];
  const id = typeof offered === 'string' && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
  (request as IncomingMessage & { id?: string }).id = id;
  return id;
}
