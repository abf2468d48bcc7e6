import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppConfig } from './app-config';
import { bootError, production } from './app-config.fixture';

describe('loadAppConfig', () => {
  describe('event webhooks', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

    it('has the documented defaults: push off', () => {
      expect(loadAppConfig({})).toMatchObject({
        eventWebhookUrls: [],
        eventWebhookSecret: undefined,
        eventWebhookTimeoutMs: 5000,
        eventBackoff: { baseMs: 1000, capMs: 300_000 },
        eventRetryWindowMs: 86_400_000,
        eventRetentionDays: 30,
      });
    });

    it('reads every variable', () => {
      const config = loadAppConfig({
        EVENT_WEBHOOK_URLS: 'http://127.0.0.1:4000/a, https://b.internal/b',
        EVENT_WEBHOOK_SECRET: secret,
        EVENT_WEBHOOK_TIMEOUT_MS: '800',
        EVENT_RETRY_BASE_MS: '50',
        EVENT_RETRY_MAX_MS: '2000',
        EVENT_RETRY_WINDOW_MS: '60000',
        EVENT_DELIVERY_INTERVAL_MS: '100',
        EVENT_RETENTION_DAYS: '7',
      });
      expect(config).toMatchObject({
        eventWebhookUrls: ['http://127.0.0.1:4000/a', 'https://b.internal/b'],
        eventWebhookSecret: secret,
        eventWebhookTimeoutMs: 800,
        eventBackoff: { baseMs: 50, capMs: 2000 },
        eventRetryWindowMs: 60_000,
        eventDeliveryIntervalMs: 100,
        eventRetentionDays: 7,
      });
    });

    it.each([
      ['a URL that is not http(s)', { EVENT_WEBHOOK_URLS: 'ftp://x/y', EVENT_WEBHOOK_SECRET: secret }, /EVENT_WEBHOOK_URLS: entry 1/],
      ['URLs without a secret', { EVENT_WEBHOOK_URLS: 'http://x/y' }, /EVENT_WEBHOOK_SECRET is required/],
      ['a secret without whsec_', { EVENT_WEBHOOK_SECRET: 'hunter2hunter2' }, /must start with whsec_/],
      ['a too short secret', { EVENT_WEBHOOK_SECRET: 'whsec_aGVsbG8=' }, /24 to 64 bytes/],
      ['a timeout of 0', { EVENT_WEBHOOK_TIMEOUT_MS: '0' }, /EVENT_WEBHOOK_TIMEOUT_MS/],
      ['retention of 0 days', { EVENT_RETENTION_DAYS: '0' }, /EVENT_RETENTION_DAYS/],
      ['a base above the cap', { EVENT_RETRY_BASE_MS: '5000', EVENT_RETRY_MAX_MS: '1000' }, /EVENT_RETRY_BASE_MS must not exceed/],
    ])('stops the boot on %s, without echoing secrets', (_name, env, message) => {
      expect.assertions(2);
      expect(() => loadAppConfig(env)).toThrow(message);
      try {
        loadAppConfig(env);
      } catch (error) {
        expect((error as Error).message).not.toContain('hunter2');
      }
    });
  });

  describe('EVENT_WEBHOOK_URLS over plain http', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const pushing = (urls: string, extra: Record<string, string> = {}) => ({ ...production, EVENT_WEBHOOK_URLS: urls, EVENT_WEBHOOK_SECRET: secret, ...extra });

    it('outside the sandbox stop the boot, naming the endpoint without its credentials or query', () => {
      const message = bootError(pushing('https://ok.internal/e, http://user:pa55word@plain.internal/events?token=t0k3n'));
      expect(message).toContain('EVENT_WEBHOOK_URLS must be https://');
      expect(message).toContain('EVENT_WEBHOOK_ALLOW_HTTP=true');
      expect(message).toContain('http://plain.internal/events');
      expect(message).not.toMatch(/pa55word|t0k3n|user:/);
      expect(message).not.toContain('ok.internal');
    });

    it.each(['true', 'TRUE', '1', 'yes', 'Yes'])('are allowed outside the sandbox with EVENT_WEBHOOK_ALLOW_HTTP=%s', (allow) => {
      expect(loadAppConfig(pushing('http://plain.internal/events', { EVENT_WEBHOOK_ALLOW_HTTP: allow })).eventWebhookUrls).toEqual(['http://plain.internal/events']);
    });

    it.each(['false', 'no', '0'])('stay refused with EVENT_WEBHOOK_ALLOW_HTTP=%s', (allow) => {
      expect(bootError(pushing('http://plain.internal/events', { EVENT_WEBHOOK_ALLOW_HTTP: allow }))).toContain('EVENT_WEBHOOK_URLS must be https://');
    });

    it('EVENT_WEBHOOK_ALLOW_HTTP takes only the boolean words', () => {
      expect(bootError(pushing('https://ok.internal/e', { EVENT_WEBHOOK_ALLOW_HTTP: 'sure' }))).toContain('EVENT_WEBHOOK_ALLOW_HTTP');
    });

    it('https endpoints need nothing more outside the sandbox', () => {
      expect(loadAppConfig(pushing('https://a.internal/events,https://b.internal/events')).eventWebhookUrls).toHaveLength(2);
    });

    it('the sandbox (no CAPA_BASE_URL) keeps allowing http', () => {
      expect(loadAppConfig({ EVENT_WEBHOOK_URLS: 'http://127.0.0.1:4000/events', EVENT_WEBHOOK_SECRET: secret }).eventWebhookUrls).toEqual(['http://127.0.0.1:4000/events']);
    });
  });

  describe('CAPA_WEBHOOK_SECRETS', () => {
    it('reads several secrets for a rotation, trimmed, or from a file', () => {
      expect(loadAppConfig({ ...production, CAPA_WEBHOOK_SECRETS: ' new-webhook-secret , old-webhook-secret ,' }).capaWebhookSecrets).toEqual([
        'new-webhook-secret',
        'old-webhook-secret',
      ]);
      const file = join(mkdtempSync(join(tmpdir(), 'capa-webhook-')), 'secrets');
      writeFileSync(file, 'from-file-secret-a,from-file-secret-b\n');
      expect(loadAppConfig({ ...production, CAPA_WEBHOOK_SECRETS_FILE: file }).capaWebhookSecrets).toEqual(['from-file-secret-a', 'from-file-secret-b']);
      expect(bootError({ ...production, CAPA_WEBHOOK_SECRETS: 'a-long-enough-secret', CAPA_WEBHOOK_SECRETS_FILE: file })).toContain('not both');
    });

    it('an entry shorter than 16 characters stops the boot, naming its position and never the secret', () => {
      const message = bootError({ ...production, CAPA_WEBHOOK_SECRETS: 'a-long-enough-secret,shortsecret15c' });
      expect(message).toContain('CAPA_WEBHOOK_SECRETS entries must be at least 16 characters (too short: entry 2 of 2)');
      expect(message).not.toContain('shortsecret15c');
      expect(message).not.toContain('a-long-enough-secret');
      const file = join(mkdtempSync(join(tmpdir(), 'capa-webhook-')), 'secrets');
      writeFileSync(file, 'tiny\n');
      expect(bootError({ ...production, CAPA_WEBHOOK_SECRETS_FILE: file })).toContain('too short: entry 1 of 1');
      expect(loadAppConfig({ ...production, CAPA_WEBHOOK_SECRETS: 'x'.repeat(16) }).capaWebhookSecrets).toEqual(['x'.repeat(16)]);
    });

    it('unset with a real Capa: webhooks are off (no secret)', () => {
      expect(loadAppConfig(production)).toMatchObject({ capaWebhookSecrets: [], webhookSecretGenerated: false });
    });

    it('unset in sandbox mode: a generated secret, shared with the built-in simulator, different per boot', () => {
      const first = loadAppConfig({});
      const second = loadAppConfig({});
      expect(first.webhookSecretGenerated).toBe(true);
      expect(first.capaWebhookSecrets).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
      expect(second.capaWebhookSecrets).not.toEqual(first.capaWebhookSecrets);
      expect(loadAppConfig({ CAPA_WEBHOOK_SECRETS: 'mine-and-long-enough' })).toMatchObject({
        capaWebhookSecrets: ['mine-and-long-enough'],
        webhookSecretGenerated: false,
      });
    });
  });
});
