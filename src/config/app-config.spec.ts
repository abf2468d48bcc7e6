import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_ADMIN_API_KEY, DEV_INBOUND_API_KEY, loadAppConfig } from './app-config';
import { bootError, production } from './app-config.fixture';

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
      mappingCacheMaxEntries: 100_000,
    });
    expect(loadAppConfig({ MAPPING_CACHE_MAX_ENTRIES: '0' }).mappingCacheMaxEntries).toBe(0);
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
    ['MAPPING_CACHE_MAX_ENTRIES', '-1'],
    ['MAPPING_CACHE_MAX_ENTRIES', 'lots'],
    ['IMPORT_IDLE_TIMEOUT_MS', 'soon'],
    ['DB_STATEMENT_TIMEOUT_MS', '0'],
    ['DB_LOCK_TIMEOUT_MS', '-5'],
    ['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', '1m'],
    ['CAPA_CIRCUIT_FAILURE_RATE', '1'],
    ['CAPA_CIRCUIT_FAILURE_RATE', '0'],
    ['CAPA_CIRCUIT_FAILURE_RATE', 'half'],
    ['CAPA_CIRCUIT_WINDOW_MS', '10s'],
    ['CAPA_CIRCUIT_MIN_CALLS', '0'],
    ['CAPA_RETRY_BUDGET_RATIO', '1.5'],
    ['CAPA_RETRY_BUDGET_MIN_PER_SECOND', '-1'],
    ['CAPA_RECONCILE_INTERVAL_MS', '-1'],
    ['CAPA_RECONCILE_INTERVAL_MS', '5m'],
    ['KYC_POLL_AFTER_MS', '0'],
    ['KYC_POLL_RPS', '0'],
    ['KYC_POLL_RPS', 'fast'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadAppConfig({ [name]: value })).toThrow(name);
  });

  it('reconciliation: defaults as DESIGN.md says (every 5 minutes, poll after a day at 1 a second); 0 turns it off', () => {
    expect(loadAppConfig({})).toMatchObject({ reconcileIntervalMs: 300_000, kycPollAfterMs: 86_400_000, kycPollRps: 1 });
    expect(loadAppConfig({ CAPA_RECONCILE_INTERVAL_MS: '0', KYC_POLL_AFTER_MS: '60000', KYC_POLL_RPS: '0.5' })).toMatchObject({
      reconcileIntervalMs: 0,
      kycPollAfterMs: 60_000,
      kycPollRps: 0.5,
    });
  });

  it('refuses the retired CAPA_CIRCUIT_THRESHOLD, pointing to the settings that replace it', () => {
    expect(() => loadAppConfig({ CAPA_CIRCUIT_THRESHOLD: '5' })).toThrow(/CAPA_CIRCUIT_THRESHOLD is no longer read.*CAPA_CIRCUIT_FAILURE_RATE/);
  });

  it('refuses an admin token that is also an inbound token', () => {
    expect(() => loadAppConfig({ INBOUND_API_KEYS: 'same,other', ADMIN_API_KEY: 'same' })).toThrow('ADMIN_API_KEY must differ');
  });
});
