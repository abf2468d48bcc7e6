import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Rejection } from './simulator-validation';

export type ErrorShape = 'nest' | 'capa';

export type BodyReadResult =
  | { outcome: 'complete'; text: string }
  | { outcome: 'too-large' }
  | { outcome: 'aborted' };

/** Reads the whole body; past `maxBytes` it keeps draining (so the answer can still be delivered) but drops data. */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyReadResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.on('end', () =>
      settle(size > maxBytes ? { outcome: 'too-large' } : { outcome: 'complete', text: Buffer.concat(chunks).toString('utf8') }),
    );
    req.on('error', () => settle({ outcome: 'aborted' }));
    req.on('close', () => settle({ outcome: 'aborted' }));
  });
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false };

export function parseJson(text: string): JsonParseResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

export function isGone(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded || res.socket === null || res.socket.destroyed;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  sendRaw(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

export function sendRaw(
  res: ServerResponse,
  status: number,
  payload: string,
  contentType: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (isGone(res)) return;
  res.writeHead(status, {
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function errorBody(shape: ErrorShape, rejection: Rejection): unknown {
  if (shape === 'capa') return { success: false, error: { message: rejection.message, id: rejection.code } };
  return { statusCode: rejection.status, message: rejection.message, error: rejection.code };
}

const DEFAULT_REJECTIONS: Record<number, Omit<Rejection, 'status'>> = {
  400: { code: 'BAD_REQUEST', message: 'Bad request' },
  401: { code: 'UNAUTHORIZED', message: 'Invalid API Key' },
  403: { code: 'INVALID_PARTNER_FLOW', message: 'Partner flow is not allowed' },
  404: { code: 'NOT_FOUND_ERROR', message: 'Not found' },
  409: { code: 'CONFLICT', message: 'Conflict' },
  429: { code: 'TOO_MANY_REQUESTS', message: 'Too many requests' },
  500: { code: 'INTERNAL_SERVER_ERROR', message: 'User creation failed' },
  502: { code: 'BAD_GATEWAY', message: 'Bad gateway' },
  503: { code: 'SERVICE_UNAVAILABLE', message: 'Service unavailable' },
  504: { code: 'GATEWAY_TIMEOUT', message: 'Gateway timeout' },
};

/** The rejection Capa would plausibly send for a bare status (used by scripted status faults). */
export function defaultRejection(status: number): Rejection {
  const known = DEFAULT_REJECTIONS[status];
  return known ? { status, ...known } : { status, code: 'ERROR', message: `Simulated HTTP ${status}` };
}

export function delay(ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  // unref: a pending simulated latency must not keep a stopped simulator's process alive.
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
