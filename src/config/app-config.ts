import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AdminOidcSettings, adminOidcSettings } from './admin-oidc-settings';
import { BACKGROUND_BACKOFF, BackoffPolicy } from './backoff';
import { displayUrl, parseWebhookUrls, webhookSecretProblem } from './event-webhook-settings';
import { EnvironmentVariables, validateEnvironment } from './environment';

const MIN_CAPA_WEBHOOK_SECRET_LENGTH = 16;

export const DEV_INBOUND_API_KEY = 'dev-inbound-token';
export const DEV_ADMIN_API_KEY = 'dev-admin-token';

/** The service's typed, validated configuration. Built once at boot; never logged (it holds secrets). */
export class AppConfig {
  readonly isProduction: boolean;
  readonly port: number;
  /** Unset: the embedded database under dataDir. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly databasePoolSize: number;
  /** Unset: the in-process Capa sandbox. */
  readonly capaBaseUrl: string | undefined;
  readonly capaPartnerApiKey: string | undefined;
  readonly capaTimeoutMs: number;
  readonly requestDeadlineMs: number;
  readonly inboundApiKeys: readonly string[];
  /** The break-glass key (all roles, audited as `api-key`); undefined when only operator sign-in is configured. */
  readonly adminApiKey: string | undefined;
  /** Operator sign-in and JWT bearer tokens; undefined without ADMIN_OIDC_ISSUER. */
  readonly adminOidc: AdminOidcSettings | undefined;
  /** True when the tokens are the built-in development ones (sandbox mode only, never with a real Capa). */
  readonly usesDevTokens: boolean;
  readonly logLevel: string;
  readonly migrateOnBoot: boolean;
  readonly workerIntervalMs: number;
  readonly workerBatchSize: number;
  readonly shutdownGraceMs: number;
  /** How long SIGTERM keeps serving with readiness 503 before it stops accepting (for load balancers to notice). */
  readonly shutdownDelayMs: number;
  /** Background retries: capped exponential backoff with full jitter. */
  readonly backgroundBackoff: BackoffPolicy;
  /** The circuit opens when more than this share of the calls in the window failed... */
  readonly circuitFailureRate: number;
  /** ...over this rolling window (also the retry budget's window)... */
  readonly circuitWindowMs: number;
  /** ...provided the window saw at least this many calls. */
  readonly circuitMinCalls: number;
  /** Retries (in-request and background together) may be this share of first attempts over the window... */
  readonly retryBudgetRatio: number;
  /** ...plus this many per second, so a quiet service can still retry. */
  readonly retryBudgetMinPerSecond: number;
  readonly circuitHalfOpenMs: number;
  /** Capa calls per second for import rows, all replicas together. */
  readonly importCapaRps: number;
  readonly importMaxRows: number;
  readonly importMaxBytes: number;
  /** Uploads one replica stages at once; more are refused (429 TOO_MANY_UPLOADS). */
  readonly importMaxUploads: number;
  /** CREATED mappings each replica answers from memory (least recently used out first); 0 turns the cache off. */
  readonly mappingCacheMaxEntries: number;
  /** An upload that sends nothing for this long is aborted and leaves nothing. */
  readonly importIdleTimeoutMs: number;
  /** Every database session's statement_timeout, lock_timeout and idle_in_transaction_session_timeout. */
  readonly dbStatementTimeoutMs: number;
  readonly dbLockTimeoutMs: number;
  readonly dbIdleInTransactionTimeoutMs: number;
  /** Internal endpoints every event is pushed to (none: push is off, the feed still works). */
  readonly eventWebhookUrls: readonly string[];
  /** `whsec_...`; required when there are endpoints. */
  readonly eventWebhookSecret: string | undefined;
  readonly eventWebhookTimeoutMs: number;
  /** Event delivery retries: capped exponential backoff with full jitter, for up to eventRetryWindowMs. */
  readonly eventBackoff: BackoffPolicy;
  readonly eventRetryWindowMs: number;
  /** How often each endpoint's deliverer looks for new and due deliveries when idle. */
  readonly eventDeliveryIntervalMs: number;
  readonly eventRetentionDays: number;
  /** How often one replica reads Capa's FAILED notifications back (and polls stale KYC statuses); 0: off, the boot run too. */
  readonly reconcileIntervalMs: number;
  /** A non-terminal KYC status unchanged (and unpolled) this long is refreshed from Capa's details endpoint. */
  readonly kycPollAfterMs: number;
  /** Details calls per second of that fallback, all replicas together. */
  readonly kycPollRps: number;
  /** Secrets Capa signs webhooks with (several during a rotation); empty: `/webhooks/capa` is off. */
  readonly capaWebhookSecrets: readonly string[];
  /** True when the sandbox generated the webhook secret it shares with the built-in simulator. */
  readonly webhookSecretGenerated: boolean;
  /** Port of the built-in Capa simulator in sandbox mode (its control API under /__sim/); 0: any free port. */
  readonly sandboxPort: number;

  constructor(env: EnvironmentVariables) {
    this.isProduction = env.NODE_ENV === 'production';
    this.port = env.PORT ?? 3000;
    this.databaseUrl = env.DATABASE_URL;
    this.dataDir = resolve(env.DATA_DIR ?? './.data');
    this.databasePoolSize = env.DATABASE_POOL_SIZE ?? 10;
    this.capaBaseUrl = env.CAPA_BASE_URL?.replace(/\/+$/, '');
    this.capaPartnerApiKey = env.CAPA_PARTNER_API_KEY ?? readSecretFile(env.CAPA_PARTNER_API_KEY_FILE);
    this.capaTimeoutMs = env.CAPA_TIMEOUT_MS ?? 5000;
    this.requestDeadlineMs = env.REQUEST_DEADLINE_MS ?? 10_000;
    this.logLevel = env.LOG_LEVEL ?? 'info';
    this.migrateOnBoot = env.MIGRATE_ON_BOOT ?? true;
    this.workerIntervalMs = env.WORKER_INTERVAL_MS ?? 1000;
    this.workerBatchSize = env.WORKER_BATCH_SIZE ?? 20;
    this.shutdownGraceMs = env.SHUTDOWN_GRACE_MS ?? 15_000;
    this.shutdownDelayMs = env.SHUTDOWN_DELAY_MS ?? 0;
    this.backgroundBackoff = {
      ...BACKGROUND_BACKOFF,
      baseMs: env.WORKER_BACKOFF_BASE_MS ?? BACKGROUND_BACKOFF.baseMs,
      capMs: env.WORKER_BACKOFF_MAX_MS ?? BACKGROUND_BACKOFF.capMs,
    };
    this.circuitFailureRate = env.CAPA_CIRCUIT_FAILURE_RATE ?? 0.5;
    this.circuitWindowMs = env.CAPA_CIRCUIT_WINDOW_MS ?? 10_000;
    this.circuitMinCalls = env.CAPA_CIRCUIT_MIN_CALLS ?? 20;
    this.retryBudgetRatio = env.CAPA_RETRY_BUDGET_RATIO ?? 0.2;
    this.retryBudgetMinPerSecond = env.CAPA_RETRY_BUDGET_MIN_PER_SECOND ?? 10;
    this.circuitHalfOpenMs = env.CAPA_CIRCUIT_HALF_OPEN_MS ?? 5_000;
    this.importCapaRps = env.IMPORT_CAPA_RPS ?? 10;
    this.importMaxRows = env.IMPORT_MAX_ROWS ?? 1_000_000;
    this.importMaxBytes = env.IMPORT_MAX_BYTES ?? 256 * 1024 * 1024;
    this.importMaxUploads = env.IMPORT_MAX_UPLOADS ?? 2;
    this.mappingCacheMaxEntries = env.MAPPING_CACHE_MAX_ENTRIES ?? 100_000;
    this.importIdleTimeoutMs = env.IMPORT_IDLE_TIMEOUT_MS ?? 60_000;
    this.dbStatementTimeoutMs = env.DB_STATEMENT_TIMEOUT_MS ?? 30_000;
    this.dbLockTimeoutMs = env.DB_LOCK_TIMEOUT_MS ?? 5_000;
    this.dbIdleInTransactionTimeoutMs = env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS ?? 60_000;
    const webhookUrls = parseWebhookUrls(env.EVENT_WEBHOOK_URLS);
    this.eventWebhookUrls = webhookUrls.urls;
    this.eventWebhookSecret = env.EVENT_WEBHOOK_SECRET?.trim() || undefined;
    this.eventWebhookTimeoutMs = env.EVENT_WEBHOOK_TIMEOUT_MS ?? 5000;
    const eventRetryMaxMs = env.EVENT_RETRY_MAX_MS ?? 300_000;
    this.eventBackoff = { baseMs: env.EVENT_RETRY_BASE_MS ?? 1000, capMs: eventRetryMaxMs, maxRetryAfterMs: eventRetryMaxMs };
    this.eventRetryWindowMs = env.EVENT_RETRY_WINDOW_MS ?? 24 * 3_600_000;
    this.eventDeliveryIntervalMs = env.EVENT_DELIVERY_INTERVAL_MS ?? 500;
    this.eventRetentionDays = env.EVENT_RETENTION_DAYS ?? 30;
    this.reconcileIntervalMs = env.CAPA_RECONCILE_INTERVAL_MS ?? 300_000;
    this.kycPollAfterMs = env.KYC_POLL_AFTER_MS ?? 86_400_000;
    this.kycPollRps = env.KYC_POLL_RPS ?? 1;

    const webhookSecrets = splitTokens(env.CAPA_WEBHOOK_SECRETS ?? readSecretFile(env.CAPA_WEBHOOK_SECRETS_FILE, 'CAPA_WEBHOOK_SECRETS_FILE'));
    this.webhookSecretGenerated = webhookSecrets.length === 0 && this.sandboxMode && !this.isProduction;
    this.capaWebhookSecrets = this.webhookSecretGenerated ? [randomBytes(32).toString('hex')] : webhookSecrets;

    this.sandboxPort = env.SANDBOX_PORT ?? 0;

    const inbound = splitTokens(env.INBOUND_API_KEYS);
    const admin = env.ADMIN_API_KEY?.trim() ?? '';
    const oidc = adminOidcSettings(env, env.ADMIN_OIDC_CLIENT_SECRET ?? readSecretFile(env.ADMIN_OIDC_CLIENT_SECRET_FILE, 'ADMIN_OIDC_CLIENT_SECRET_FILE'));
    this.adminOidc = oidc.settings;
    // Outside the sandbox an unset key stays unset once operators sign in: no published token opens /admin there.
    const devAdminKey = this.sandboxMode && !this.isProduction;
    this.usesDevTokens = inbound.length === 0 || (admin === '' && devAdminKey);
    this.inboundApiKeys = inbound.length > 0 ? inbound : [DEV_INBOUND_API_KEY];
    this.adminApiKey = admin !== '' ? admin : devAdminKey ? DEV_ADMIN_API_KEY : undefined;

    this.assertConsistent(env, inbound, admin, [...webhookUrls.problems, ...oidc.problems]);
  }

  get sandboxMode(): boolean {
    return this.capaBaseUrl === undefined;
  }

  private assertConsistent(env: EnvironmentVariables, inbound: string[], admin: string, urlProblems: string[]): void {
    const problems: string[] = [...urlProblems];
    if (this.eventWebhookUrls.length > 0 && this.eventWebhookSecret === undefined) {
      problems.push('EVENT_WEBHOOK_SECRET is required when EVENT_WEBHOOK_URLS is set');
    }
    const secretProblem = this.eventWebhookSecret === undefined ? null : webhookSecretProblem(this.eventWebhookSecret);
    if (secretProblem !== null) problems.push(secretProblem);
    // Pushed events carry personal data: a real deployment sends them over TLS unless an operator says otherwise.
    if (!this.sandboxMode && env.EVENT_WEBHOOK_ALLOW_HTTP !== true) {
      const plain = this.eventWebhookUrls.filter((url) => new URL(url).protocol === 'http:').map(displayUrl);
      if (plain.length > 0) {
        problems.push(`EVENT_WEBHOOK_URLS must be https:// outside the sandbox (or set EVENT_WEBHOOK_ALLOW_HTTP=true); plain http: ${plain.join(', ')}`);
      }
    }
    if (this.eventBackoff.baseMs > this.eventBackoff.capMs) problems.push('EVENT_RETRY_BASE_MS must not exceed EVENT_RETRY_MAX_MS');
    if (this.capaBaseUrl !== undefined && !this.capaPartnerApiKey) {
      problems.push('CAPA_PARTNER_API_KEY (or CAPA_PARTNER_API_KEY_FILE) is required when CAPA_BASE_URL is set');
    }
    if (this.isProduction && this.capaBaseUrl === undefined) {
      problems.push('CAPA_BASE_URL is required in production (the sandbox never runs there)');
    }
    // The published development tokens would open a real Capa account to anyone: only the sandbox accepts them.
    if (this.capaBaseUrl !== undefined || this.isProduction) {
      const why = this.capaBaseUrl !== undefined ? 'when CAPA_BASE_URL is set (the development tokens work only in sandbox mode)' : 'in production';
      if (inbound.length === 0) problems.push(`INBOUND_API_KEYS is required ${why}`);
      if (admin === '' && env.ADMIN_OIDC_ISSUER === undefined) {
        problems.push(`ADMIN_API_KEY is required ${why} unless ADMIN_OIDC_ISSUER is set (operators then sign in)`);
      }
      // Set explicitly (a compose file's default, say), the published tokens are no secret either.
      if (inbound.includes(DEV_INBOUND_API_KEY)) problems.push(`INBOUND_API_KEYS must not contain the published development token ${why}`);
      if (admin === DEV_ADMIN_API_KEY) problems.push(`ADMIN_API_KEY must not be the published development token ${why}`);
    }
    if (admin !== '' && inbound.includes(admin)) problems.push('ADMIN_API_KEY must differ from every INBOUND_API_KEYS token');
    if (env.CAPA_WEBHOOK_SECRETS && env.CAPA_WEBHOOK_SECRETS_FILE) {
      problems.push('set CAPA_WEBHOOK_SECRETS or CAPA_WEBHOOK_SECRETS_FILE, not both');
    }
    // A short HMAC secret can be guessed offline from one captured delivery; the message names positions, never values.
    const shortSecrets = this.capaWebhookSecrets.flatMap((secret, index) => (secret.length < MIN_CAPA_WEBHOOK_SECRET_LENGTH ? [index + 1] : []));
    if (shortSecrets.length > 0) {
      problems.push(
        `CAPA_WEBHOOK_SECRETS entries must be at least ${MIN_CAPA_WEBHOOK_SECRET_LENGTH} characters (too short: entry ${shortSecrets.join(', ')} of ${this.capaWebhookSecrets.length})`,
      );
    }
    if (env.CAPA_PARTNER_API_KEY && env.CAPA_PARTNER_API_KEY_FILE) {
      problems.push('set CAPA_PARTNER_API_KEY or CAPA_PARTNER_API_KEY_FILE, not both');
    }
    if (env.CAPA_CIRCUIT_THRESHOLD !== undefined) {
      problems.push(
        'CAPA_CIRCUIT_THRESHOLD is no longer read: the circuit opens on a failure rate over a window; ' +
          'set CAPA_CIRCUIT_FAILURE_RATE, CAPA_CIRCUIT_WINDOW_MS and CAPA_CIRCUIT_MIN_CALLS instead (README, Configuration)',
      );
    }
    if (problems.length > 0) throw new Error(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

function splitTokens(list: string | undefined): string[] {
  return (list ?? '').split(',').map((token) => token.trim()).filter((token) => token.length > 0);
}

function readSecretFile(path: string | undefined, variable = 'CAPA_PARTNER_API_KEY_FILE'): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new Error(`Invalid configuration:\n  ${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
  }
}

export function loadAppConfig(raw: Record<string, unknown> = process.env): AppConfig {
  return new AppConfig(validateEnvironment(raw));
}
