import helmet, { HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * helmet's defaults, with a CSP that lets the operator page show inline images and works without HTTPS.
 * Keep these static (no functions, e.g. per-request nonces): securityHeaders computes them once.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { directives: { 'img-src': ["'self'", 'data:'], 'upgrade-insecure-requests': null } },
};

/**
 * The headers helmet sets for these options, computed once. With static options they depend on nothing in the
 * request, so the app adds this one object to every reply instead of running helmet's dozen middlewares (and Node's
 * header validation for each) per request. (@fastify/helmet even rebuilt the middlewares per request.)
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let done = false;
  helmet(HELMET_OPTIONS)({ headers: {} } as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
    done = true;
  });
  // helmet's middlewares are synchronous; should that ever change, fail the boot rather than cache half the headers.
  if (!done) throw new Error('helmet did not finish synchronously; its headers cannot be computed once');
  return Object.freeze(headers);
}
