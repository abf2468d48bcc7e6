import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ADMIN_API_KEY, DEV_INBOUND_API_KEY, loadAppConfig } from './app-config';

const production = {
  NODE_ENV: 'production',
  CAPA_BASE_URL: 'https://staging-api.capa.fi',
  CAPA_PARTNER_API_KEY: 'secret-capa-key',
  INBOUND_API_KEYS: 'a,b',
  ADMIN_API_KEY: 'admin',
};

/** The boot error's message for this environment; fails the test when the environment is accepted. */
function bootError(env: Record<string, string>): string {
  let message: string | undefined;
  try {
    loadAppConfig(env);
  } catch (error) {
    message = (error as Error).message;
  }
  if (message === undefined) throw new Error(`expected the boot to fail for ${JSON.stringify(Object.keys(env))}`);
  return message;
}

describe('loadAppConfig', () => {
  it('has the documented defaults', () => {
    const config = loadAppConfig({});
    expect(config).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      capaBaseUrl: undefined,
      capaTimeoutMs: 5000,
      requestDeadlineMs: 10_000,
      logLevel: 'info',
      migrateOnBoot: true,
      sandboxMode: true,
      usesDevTokens: true,
      inboundApiKeys: [DEV_INBOUND_API_KEY],
      adminApiKey: DEV_ADMIN_API_KEY,
    });
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('reads every variable', () => {
    const config = loadAppConfig({ ...production, PORT: '8080', CAPA_TIMEOUT_MS: '2500', REQUEST_DEADLINE_MS: '4000', LOG_LEVEL: 'debug', MIGRATE_ON_BOOT: 'false', DATABASE_URL: 'postgresql://x@h/db' });
    expect(config).toMatchObject({ port: 8080, capaTimeoutMs: 2500, requestDeadlineMs: 4000, logLevel: 'debug', migrateOnBoot: false, inboundApiKeys: ['a', 'b'], adminApiKey: 'admin', usesDevTokens: false });
  });

  it('trims tokens and drops empty ones', () => {
    expect(loadAppConfig({ INBOUND_API_KEYS: ' a , ,b ', ADMIN_API_KEY: 'z' }).inboundApiKeys).toEqual(['a', 'b']);
  });

  it('names every bad variable, never its value', () => {
    const message = bootError({ PORT: 'eighty', CAPA_TIMEOUT_MS: '-1', LOG_LEVEL: 'loud', CAPA_BASE_URL: 'not a url', CAPA_PARTNER_API_KEY: 'k' });
    for (const name of ['PORT', 'CAPA_TIMEOUT_MS', 'LOG_LEVEL', 'CAPA_BASE_URL']) expect(message).toContain(name);
    const ftp = bootError({ ...production, CAPA_BASE_URL: 'ftp://sneaky-secret-host' });
    expect(ftp).toContain('CAPA_BASE_URL');
    expect(ftp).not.toContain('sneaky-secret-host');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['Yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['NO', false],
  ])('MIGRATE_ON_BOOT=%s is %s', (value, expected) => {
    expect(loadAppConfig({ MIGRATE_ON_BOOT: value }).migrateOnBoot).toBe(expected);
  });

  it.each(['on', 'off', '2', 'y', 'truthy', ''])('MIGRATE_ON_BOOT=%j stops the boot, naming the variable', (value) => {
    const message = bootError({ MIGRATE_ON_BOOT: value });
    expect(message).toContain('MIGRATE_ON_BOOT');
    expect(message).toContain('true, false, 1, 0, yes, no');
  });

  it.each(['INBOUND_API_KEYS', 'ADMIN_API_KEY'])('with a real CAPA_BASE_URL, %s is required whatever NODE_ENV says', (name) => {
    for (const nodeEnv of [undefined, 'development', 'test']) {
      const env: Record<string, string> = { ...production };
      delete env[name];
      if (nodeEnv === undefined) delete env.NODE_ENV;
      else env.NODE_ENV = nodeEnv;
      expect(bootError(env)).toContain(`${name} is required when CAPA_BASE_URL is set`);
    }
  });

  it('the published development tokens are refused with a real Capa, also when set explicitly', () => {
    const message = bootError({ ...production, NODE_ENV: 'development', INBOUND_API_KEYS: `a,${DEV_INBOUND_API_KEY}`, ADMIN_API_KEY: DEV_ADMIN_API_KEY });
    expect(message).toContain('INBOUND_API_KEYS must not contain the published development token');
    expect(message).toContain('ADMIN_API_KEY must not be the published development token');
    expect(loadAppConfig({ INBOUND_API_KEYS: DEV_INBOUND_API_KEY, ADMIN_API_KEY: DEV_ADMIN_API_KEY }).sandboxMode).toBe(true);
  });

  it('the development tokens are accepted in sandbox mode only', () => {
    expect(loadAppConfig({ NODE_ENV: 'development' })).toMatchObject({ sandboxMode: true, usesDevTokens: true });
    const { INBOUND_API_KEYS: _inbound, ADMIN_API_KEY: _admin, NODE_ENV: _env, ...realCapa } = production;
    expect(bootError(realCapa)).toMatch(/INBOUND_API_KEYS is required[\s\S]*ADMIN_API_KEY is required/);
  });

  it.each(['CAPA_BASE_URL', 'INBOUND_API_KEYS', 'ADMIN_API_KEY'])('production refuses to boot without %s', (name) => {
    const env: Record<string, string> = { ...production };
    delete env[name];
    expect(() => loadAppConfig(env)).toThrow(name);
  });

  it('requires a Capa key with CAPA_BASE_URL', () => {
    expect(() => loadAppConfig({ CAPA_BASE_URL: 'https://staging-api.capa.fi' })).toThrow('CAPA_PARTNER_API_KEY');
  });

  it('reads the Capa key from CAPA_PARTNER_API_KEY_FILE (a mounted secret), trimmed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'capa-key-')), 'key');
    writeFileSync(file, 'from-file-key\n');
    const { CAPA_PARTNER_API_KEY: _key, ...rest } = production;
    expect(loadAppConfig({ ...rest, CAPA_PARTNER_API_KEY_FILE: file }).capaPartnerApiKey).toBe('from-file-key');
    expect(() => loadAppConfig({ ...rest, CAPA_PARTNER_API_KEY_FILE: '/nonexistent/key' })).toThrow('CAPA_PARTNER_API_KEY_FILE');
  });

  it('has the documented breaker and retry budget defaults, and reads them', () => {
    expect(loadAppConfig({})).toMatchObject({ circuitFailureRate: 0.5, circuitWindowMs: 10_000, circuitMinCalls: 20, circuitHalfOpenMs: 5_000, retryBudgetRatio: 0.2, retryBudgetMinPerSecond: 10 });
    const config = loadAppConfig({
      CAPA_CIRCUIT_FAILURE_RATE: '0.25',
      CAPA_CIRCUIT_WINDOW_MS: '30000',
      CAPA_CIRCUIT_MIN_CALLS: '50',
      CAPA_RETRY_BUDGET_RATIO: '.1',
      CAPA_RETRY_BUDGET_MIN_PER_SECOND: '0',
    });
    expect(config).toMatchObject({ circuitFailureRate: 0.25, circuitWindowMs: 30_000, circuitMinCalls: 50, retryBudgetRatio: 0.1, retryBudgetMinPerSecond: 0 });
  });

  it('upload limits and database session timeouts default as DESIGN.md says and are read', () => {
    expect(loadAppConfig({})).toMatchObject({
      importMaxUploads: 2,
      importIdleTimeoutMs: 60_000,
      dbStatementTimeoutMs: 30_000,
      dbLockTimeoutMs: 5_000,
      dbIdleInTransactionTimeoutMs: 60_000,
    });
    const config = loadAppConfig({
      IMPORT_MAX_UPLOADS: '4',
      IMPORT_IDLE_TIMEOUT_MS: '1000',
      DB_STATEMENT_TIMEOUT_MS: '20000',
      DB_LOCK_TIMEOUT_MS: '100',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '9000',
    });
    expect(config).toMatchObject({ importMaxUploads: 4, importIdleTimeoutMs: 1000, dbStatementTimeoutMs: 20_000, dbLockTimeoutMs: 100, dbIdleInTransactionTimeoutMs: 9000 });
  });

  it.each([
    ['IMPORT_MAX_UPLOADS', '0'],
    ['IMPORT_IDLE_TIMEOUT_MS', 'soon'],
    ['DB_STATEMENT_TIMEOUT_MS', '0'],
    ['DB_LOCK_TIMEOUT_MS', '-5'],
    ['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', '1m'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadAppConfig({ [name]: value })).toThrow(name);
  });

  it.each([
    ['CAPA_CIRCUIT_FAILURE_RATE', '1'],
    ['CAPA_CIRCUIT_FAILURE_RATE', '0'],
    ['CAPA_CIRCUIT_FAILURE_RATE', 'half'],
    ['CAPA_CIRCUIT_WINDOW_MS', '10s'],
    ['CAPA_CIRCUIT_MIN_CALLS', '0'],
    ['CAPA_RETRY_BUDGET_RATIO', '1.5'],
    ['CAPA_RETRY_BUDGET_MIN_PER_SECOND', '-1'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadAppConfig({ [name]: value })).toThrow(name);
  });

  it('refuses the retired CAPA_CIRCUIT_THRESHOLD, pointing to the settings that replace it', () => {
    expect(() => loadAppConfig({ CAPA_CIRCUIT_THRESHOLD: '5' })).toThrow(/CAPA_CIRCUIT_THRESHOLD is no longer read.*CAPA_CIRCUIT_FAILURE_RATE/);
  });

  it('refuses an admin token that is also an inbound token', () => {
    expect(() => loadAppConfig({ INBOUND_API_KEYS: 'same,other', ADMIN_API_KEY: 'same' })).toThrow('ADMIN_API_KEY must differ');
  });

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
