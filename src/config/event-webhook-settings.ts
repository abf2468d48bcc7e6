import { isURL } from 'class-validator';

/** Secrets per the Standard Webhooks spec: `whsec_` + base64 of 24..64 random bytes. */
const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** EVENT_WEBHOOK_URLS: comma-separated absolute http(s) URLs, blanks dropped, duplicates once. */
export function parseWebhookUrls(list: string | undefined): { urls: string[]; problems: string[] } {
  const entries = (list ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
  const problems: string[] = [];
  const urls: string[] = [];
  for (const [index, entry] of entries.entries()) {
    // The position, never the value: a URL may carry a token.
    if (!isURL(entry, { require_tld: false, require_protocol: true, protocols: ['http', 'https'] })) {
      problems.push(`EVENT_WEBHOOK_URLS: entry ${index + 1} is not an absolute http(s) URL`);
    } else if (!urls.includes(entry)) {
      urls.push(entry);
    }
  }
  return { urls, problems };
}

/** What is wrong with an EVENT_WEBHOOK_SECRET, or null when it is a valid `whsec_...` secret. Never echoes it. */
export function webhookSecretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX)) return 'EVENT_WEBHOOK_SECRET must start with whsec_';
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return 'EVENT_WEBHOOK_SECRET must be whsec_ followed by base64';
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < 24 || bytes > 64) return `EVENT_WEBHOOK_SECRET must encode 24 to 64 bytes (it encodes ${bytes})`;
  return null;
}

/** Where a URL may be shown (logs, metric labels): no credentials, no query string (either may hold a token). */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
}
