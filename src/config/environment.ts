import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const BOOLEAN_MESSAGE = '$property must be one of true, false, 1, 0, yes, no (any case)';
const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** `true/false/1/0/yes/no` in any case to a boolean; anything else is left as it is, for IsBoolean to reject. */
export function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

/** Applies decorators as a stacked list would be (bottom-up), so the validation messages keep their order. */
function stacked(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => {
    for (const decorator of [...decorators].reverse()) decorator(target, key);
  };
}

/** An optional integer variable within [min, max]. */
function OptionalInt(min: number, max: number): PropertyDecorator {
  return stacked(IsOptional(), Transform(({ value }) => toInt(value)), IsInt(), Min(min), Max(max));
}

/** An optional number variable within [min, max]. */
function OptionalNumber(min: number, max: number): PropertyDecorator {
  return stacked(IsOptional(), Transform(({ value }) => toNumber(value)), IsNumber(), Min(min), Max(max));
}

/** An optional true/false/1/0/yes/no variable. */
function OptionalBoolean(): PropertyDecorator {
  return stacked(IsOptional(), Transform(({ value }) => toBoolean(value)), IsBoolean({ message: BOOLEAN_MESSAGE }));
}

/** An optional string variable; `nonEmpty`: set, it has at least one character. */
function OptionalString({ nonEmpty = false } = {}): PropertyDecorator {
  return nonEmpty ? stacked(IsOptional(), IsString(), MinLength(1)) : stacked(IsOptional(), IsString());
}

/** The environment variables this service reads, as strings from the process, checked once at boot. */
export class EnvironmentVariables {
  @IsOptional() @IsIn(['development', 'test', 'production'])
  NODE_ENV?: string;

  @OptionalInt(0, 65535)
  PORT?: number;

  @OptionalString({ nonEmpty: true })
  DATABASE_URL?: string;

  @OptionalString({ nonEmpty: true })
  DATA_DIR?: string;

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  CAPA_BASE_URL?: string;

  @OptionalString({ nonEmpty: true })
  CAPA_PARTNER_API_KEY?: string;

  @OptionalString({ nonEmpty: true })
  CAPA_PARTNER_API_KEY_FILE?: string;

  @OptionalInt(100, 120_000)
  CAPA_TIMEOUT_MS?: number;

  @OptionalInt(100, 300_000)
  REQUEST_DEADLINE_MS?: number;

  @OptionalString()
  INBOUND_API_KEYS?: string;

  @OptionalString()
  ADMIN_API_KEY?: string;

  /** Operator sign-in (OpenID Connect); URL rules (https, or http on loopback) are checked in AppConfig. */
  @OptionalString({ nonEmpty: true })
  ADMIN_OIDC_ISSUER?: string;

  @OptionalString({ nonEmpty: true })
  ADMIN_OIDC_CLIENT_ID?: string;

  @OptionalString({ nonEmpty: true })
  ADMIN_OIDC_CLIENT_SECRET?: string;

  @OptionalString({ nonEmpty: true })
  ADMIN_OIDC_CLIENT_SECRET_FILE?: string;

  @OptionalString({ nonEmpty: true })
  ADMIN_PUBLIC_URL?: string;

  @OptionalString({ nonEmpty: true })
  ADMIN_OIDC_AUDIENCE?: string;

  @IsOptional() @Matches(/^\S+$/, { message: '$property must be a claim name or a dot path such as realm_access.roles' })
  ADMIN_OIDC_ROLES_CLAIM?: string;

  @IsOptional() @Matches(/(^|\s)openid(\s|$)/, { message: '$property must include openid' })
  ADMIN_OIDC_SCOPES?: string;

  @OptionalInt(60, 7 * 86_400)
  ADMIN_SESSION_TTL_S?: number;

  @OptionalInt(60, 7 * 86_400)
  ADMIN_SESSION_IDLE_S?: number;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @OptionalBoolean()
  MIGRATE_ON_BOOT?: boolean;

  @OptionalInt(10, 600_000)
  WORKER_INTERVAL_MS?: number;

  @OptionalInt(1, 1000)
  WORKER_BATCH_SIZE?: number;

  @OptionalInt(10, 3_600_000)
  WORKER_BACKOFF_BASE_MS?: number;

  @OptionalInt(10, 3_600_000)
  WORKER_BACKOFF_MAX_MS?: number;

  /** No longer read (the circuit opens on a failure rate now): set, it stops the boot with a pointer to the new settings. */
  @IsOptional()
  CAPA_CIRCUIT_THRESHOLD?: unknown;

  @OptionalNumber(0.01, 0.99)
  CAPA_CIRCUIT_FAILURE_RATE?: number;

  @OptionalInt(1000, 600_000)
  CAPA_CIRCUIT_WINDOW_MS?: number;

  @OptionalInt(1, 1_000_000)
  CAPA_CIRCUIT_MIN_CALLS?: number;

  @OptionalNumber(0, 1)
  CAPA_RETRY_BUDGET_RATIO?: number;

  @OptionalNumber(0, 10_000)
  CAPA_RETRY_BUDGET_MIN_PER_SECOND?: number;

  @OptionalInt(100, 600_000)
  CAPA_CIRCUIT_HALF_OPEN_MS?: number;

  @OptionalInt(1, 200)
  DATABASE_POOL_SIZE?: number;

  @OptionalString()
  CAPA_WEBHOOK_SECRETS?: string;

  @OptionalInt(0, 65535)
  SANDBOX_PORT?: number;

  @OptionalString({ nonEmpty: true })
  CAPA_WEBHOOK_SECRETS_FILE?: string;

  @OptionalInt(0, 600_000)
  SHUTDOWN_GRACE_MS?: number;

  @OptionalInt(0, 60_000)
  SHUTDOWN_DELAY_MS?: number;

  @OptionalInt(1, 10_000)
  IMPORT_CAPA_RPS?: number;

  @OptionalInt(1, 1_000_000)
  IMPORT_MAX_ROWS?: number;

  @OptionalInt(1, 256 * 1024 * 1024)
  IMPORT_MAX_BYTES?: number;
  @OptionalInt(1, 1000)
  IMPORT_MAX_UPLOADS?: number;
  @OptionalInt(0, 10_000_000)
  MAPPING_CACHE_MAX_ENTRIES?: number;
  @OptionalInt(10, 3_600_000)
  IMPORT_IDLE_TIMEOUT_MS?: number;
  @OptionalInt(1, 86_400_000)
  DB_STATEMENT_TIMEOUT_MS?: number;
  @OptionalInt(1, 86_400_000)
  DB_LOCK_TIMEOUT_MS?: number;
  @OptionalInt(1, 86_400_000)
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;
  /** Comma-separated http(s) URLs; each entry is checked in AppConfig (entries are never echoed: they may hold tokens). */
  @OptionalString()
  EVENT_WEBHOOK_URLS?: string;

  @OptionalString()
  EVENT_WEBHOOK_SECRET?: string;

  /** Outside the sandbox, plain-http EVENT_WEBHOOK_URLS only with this (pushed events carry personal data). */
  @OptionalBoolean()
  EVENT_WEBHOOK_ALLOW_HTTP?: boolean;

  @OptionalInt(100, 120_000)
  EVENT_WEBHOOK_TIMEOUT_MS?: number;

  @OptionalInt(10, 3_600_000)
  EVENT_RETRY_BASE_MS?: number;

  @OptionalInt(10, 86_400_000)
  EVENT_RETRY_MAX_MS?: number;

  @OptionalInt(1000, 30 * 86_400_000)
  EVENT_RETRY_WINDOW_MS?: number;

  @OptionalInt(10, 600_000)
  EVENT_DELIVERY_INTERVAL_MS?: number;

  @OptionalInt(1, 3650)
  EVENT_RETENTION_DAYS?: number;

  @OptionalInt(0, 86_400_000)
  CAPA_RECONCILE_INTERVAL_MS?: number;

  @OptionalInt(1_000, 365 * 86_400_000)
  KYC_POLL_AFTER_MS?: number;

  @OptionalNumber(0.01, 100)
  KYC_POLL_RPS?: number;
}

function toInt(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}

function toNumber(value: unknown): unknown {
  return typeof value === 'string' && /^-?(\d+\.?\d*|\.\d+)$/.test(value.trim()) ? Number(value) : value;
}

/** Validates the raw environment; throws one error that names every bad variable (never its value). */
export function validateEnvironment(raw: Record<string, unknown>): EnvironmentVariables {
  const env = plainToInstance(EnvironmentVariables, raw, { enableImplicitConversion: false });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((error) => `  ${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return env;
}
