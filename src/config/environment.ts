import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
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

/** The environment variables this service reads, as strings from the process, checked once at boot. */
export class EnvironmentVariables {
  @IsOptional() @IsIn(['development', 'test', 'production'])
  NODE_ENV?: string;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(0) @Max(65535)
  PORT?: number;

  @IsOptional() @IsString() @MinLength(1)
  DATABASE_URL?: string;

  @IsOptional() @IsString() @MinLength(1)
  DATA_DIR?: string;

  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  CAPA_BASE_URL?: string;

  @IsOptional() @IsString() @MinLength(1)
  CAPA_PARTNER_API_KEY?: string;

  @IsOptional() @IsString() @MinLength(1)
  CAPA_PARTNER_API_KEY_FILE?: string;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(100) @Max(120_000)
  CAPA_TIMEOUT_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(100) @Max(300_000)
  REQUEST_DEADLINE_MS?: number;

  @IsOptional() @IsString()
  INBOUND_API_KEYS?: string;

  @IsOptional() @IsString()
  ADMIN_API_KEY?: string;

  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional() @Transform(({ value }) => toBoolean(value)) @IsBoolean({ message: BOOLEAN_MESSAGE })
  MIGRATE_ON_BOOT?: boolean;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(600_000)
  WORKER_INTERVAL_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(1000)
  WORKER_BATCH_SIZE?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(3_600_000)
  WORKER_BACKOFF_BASE_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(3_600_000)
  WORKER_BACKOFF_MAX_MS?: number;

  /** No longer read (the circuit opens on a failure rate now): set, it stops the boot with a pointer to the new settings. */
  @IsOptional()
  CAPA_CIRCUIT_THRESHOLD?: unknown;

  @IsOptional() @Transform(({ value }) => toNumber(value)) @IsNumber() @Min(0.01) @Max(0.99)
  CAPA_CIRCUIT_FAILURE_RATE?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1000) @Max(600_000)
  CAPA_CIRCUIT_WINDOW_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(1_000_000)
  CAPA_CIRCUIT_MIN_CALLS?: number;

  @IsOptional() @Transform(({ value }) => toNumber(value)) @IsNumber() @Min(0) @Max(1)
  CAPA_RETRY_BUDGET_RATIO?: number;

  @IsOptional() @Transform(({ value }) => toNumber(value)) @IsNumber() @Min(0) @Max(10_000)
  CAPA_RETRY_BUDGET_MIN_PER_SECOND?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(100) @Max(600_000)
  CAPA_CIRCUIT_HALF_OPEN_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE?: number;

  @IsOptional() @IsString()
  CAPA_WEBHOOK_SECRETS?: string;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(0) @Max(65535)
  SANDBOX_PORT?: number;

  @IsOptional() @IsString() @MinLength(1)
  CAPA_WEBHOOK_SECRETS_FILE?: string;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(0) @Max(600_000)
  SHUTDOWN_GRACE_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(0) @Max(60_000)
  SHUTDOWN_DELAY_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(10_000)
  IMPORT_CAPA_RPS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(1_000_000)
  IMPORT_MAX_ROWS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(256 * 1024 * 1024)
  IMPORT_MAX_BYTES?: number;
  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(1000)
  IMPORT_MAX_UPLOADS?: number;
  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(0) @Max(10_000_000)
  MAPPING_CACHE_MAX_ENTRIES?: number;
  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(3_600_000)
  IMPORT_IDLE_TIMEOUT_MS?: number;
  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(86_400_000)
  DB_STATEMENT_TIMEOUT_MS?: number;
  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(86_400_000)
  DB_LOCK_TIMEOUT_MS?: number;
  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(86_400_000)
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS?: number;
  /** Comma-separated http(s) URLs; each entry is checked in AppConfig (entries are never echoed: they may hold tokens). */
  @IsOptional() @IsString()
  EVENT_WEBHOOK_URLS?: string;

  @IsOptional() @IsString()
  EVENT_WEBHOOK_SECRET?: string;

  /** Outside the sandbox, plain-http EVENT_WEBHOOK_URLS only with this (pushed events carry personal data). */
  @IsOptional() @Transform(({ value }) => toBoolean(value)) @IsBoolean({ message: BOOLEAN_MESSAGE })
  EVENT_WEBHOOK_ALLOW_HTTP?: boolean;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(100) @Max(120_000)
  EVENT_WEBHOOK_TIMEOUT_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(3_600_000)
  EVENT_RETRY_BASE_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(86_400_000)
  EVENT_RETRY_MAX_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1000) @Max(30 * 86_400_000)
  EVENT_RETRY_WINDOW_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(10) @Max(600_000)
  EVENT_DELIVERY_INTERVAL_MS?: number;

  @IsOptional() @Transform(({ value }) => toInt(value)) @IsInt() @Min(1) @Max(3650)
  EVENT_RETENTION_DAYS?: number;
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
