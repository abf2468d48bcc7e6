export type Fault =
  /** Answer this status instead of processing. A string `body` is sent raw as text/plain (e.g. a proxy's HTML page). */
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown }
  /** Accept the request and never answer; the socket is destroyed after `timeoutHangMs` or on stop(). */
  | { kind: 'timeout' }
  /** Destroy the socket without answering; nothing is created. */
  | { kind: 'reset' }
  /** Create the user as normal, then destroy the socket instead of answering. */
  | { kind: 'commit-then-reset' }
  /** Create the user as normal, then answer 500 instead of 201. */
  | { kind: 'commit-then-500' };

export type FaultKind = Fault['kind'];

/** Probabilities (0..1, summed in this order) drawn once per request when the script is empty. */
export interface RandomFaults {
  seed?: number;
  status500?: number;
  status429?: number;
  timeout?: number;
  reset?: number;
  commitThenReset?: number;
  /** Retry-After header sent with random 429s. */
  retryAfter?: string;
}

export interface FaultConfig {
  latencyMs?: number;
  /**
   * The first call of each externalUserId creates the user at once but answers only after this long: a slow answer
   * to a committed create, which a repeat (answered at once) overtakes.
   */
  firstCallLatencyMs?: number;
  jitterMs?: number;
  script?: Fault[];
  random?: RandomFaults;
  timeoutHangMs?: number;
}

export const DEFAULT_TIMEOUT_HANG_MS = 30_000;
const DEFAULT_RANDOM_SEED = 1;

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The active fault configuration plus its consumable state (script queue, seeded PRNGs). */
export class FaultPlan {
  private readonly script: Fault[];
  private readonly randomCandidates: Array<[probability: number, fault: Fault]>;
  private readonly drawFault: () => number;
  // A separate stream so that jitter never shifts which random faults are drawn.
  private readonly drawJitter: () => number;

  constructor(private readonly config: FaultConfig = {}) {
    this.script = [...(config.script ?? [])];
    const random = config.random ?? {};
    const seed = random.seed ?? DEFAULT_RANDOM_SEED;
    this.drawFault = mulberry32(seed);
    this.drawJitter = mulberry32(seed ^ 0x9e3779b9);
    this.randomCandidates = [
      [random.status500 ?? 0, { kind: 'status', status: 500 }],
      [random.status429 ?? 0, { kind: 'status', status: 429, retryAfter: random.retryAfter }],
      [random.timeout ?? 0, { kind: 'timeout' }],
      [random.reset ?? 0, { kind: 'reset' }],
      [random.commitThenReset ?? 0, { kind: 'commit-then-reset' }],
    ];
  }

  get timeoutHangMs(): number {
    return this.config.timeoutHangMs ?? DEFAULT_TIMEOUT_HANG_MS;
  }

  get pendingScript(): number {
    return this.script.length;
  }

  nextFault(): Fault | undefined {
    const scripted = this.script.shift();
    if (scripted) return scripted;
    if (!this.config.random) return undefined;
    const roll = this.drawFault();
    let threshold = 0;
    for (const [probability, fault] of this.randomCandidates) {
      threshold += probability;
      if (roll < threshold) return fault;
    }
    return undefined;
  }

  delayMs(baseLatencyMs: number): number {
    const jitterMs = this.config.jitterMs ?? 0;
    const jitter = jitterMs > 0 ? Math.floor(this.drawJitter() * jitterMs) : 0;
    return baseLatencyMs + (this.config.latencyMs ?? 0) + jitter;
  }

  get firstCallLatencyMs(): number {
    return this.config.firstCallLatencyMs ?? 0;
  }
}

export class FaultConfigError extends Error {}

const FAULT_KINDS: readonly FaultKind[] = ['status', 'timeout', 'reset', 'commit-then-reset', 'commit-then-500'];
const RANDOM_PROBABILITY_KEYS = ['status500', 'status429', 'timeout', 'reset', 'commitThenReset'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNonNegative(record: Record<string, unknown>, key: string, where: string): number | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new FaultConfigError(`${where}${key} must be a non-negative number`);
  }
  return value;
}

function optionalString(record: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new FaultConfigError(`${where}${key} must be a string`);
  return value;
}

function parseFault(value: unknown, index: number): Fault {
  const where = `script[${index}].`;
  if (!isRecord(value)) throw new FaultConfigError(`script[${index}] must be an object`);
  const kind = value.kind;
  if (typeof kind !== 'string' || !FAULT_KINDS.includes(kind as FaultKind)) {
    throw new FaultConfigError(`${where}kind must be one of ${FAULT_KINDS.join(', ')}`);
  }
  if (kind !== 'status') return { kind } as Fault;
  const status = value.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599) {
    throw new FaultConfigError(`${where}status must be an integer between 200 and 599`);
  }
  return { kind, status, retryAfter: optionalString(value, 'retryAfter', where), body: value.body };
}

function parseRandom(value: unknown): RandomFaults {
  if (!isRecord(value)) throw new FaultConfigError('random must be an object');
  const random: RandomFaults = {};
  const seed = value.seed;
  if (seed !== undefined) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new FaultConfigError('random.seed must be an integer');
    random.seed = seed;
  }
  for (const key of RANDOM_PROBABILITY_KEYS) {
    const probability = optionalNonNegative(value, key, 'random.');
    if (probability !== undefined && probability > 1) throw new FaultConfigError(`random.${key} must be between 0 and 1`);
    random[key] = probability;
  }
  random.retryAfter = optionalString(value, 'retryAfter', 'random.');
  return random;
}

/** Validates a FaultConfig received as untrusted JSON (the HTTP control API). */
export function parseFaultConfig(value: unknown): FaultConfig {
  if (!isRecord(value)) throw new FaultConfigError('fault config must be a JSON object');
  const config: FaultConfig = {
    latencyMs: optionalNonNegative(value, 'latencyMs', ''),
    firstCallLatencyMs: optionalNonNegative(value, 'firstCallLatencyMs', ''),
    jitterMs: optionalNonNegative(value, 'jitterMs', ''),
    timeoutHangMs: optionalNonNegative(value, 'timeoutHangMs', ''),
  };
  if (value.script !== undefined) {
    if (!Array.isArray(value.script)) throw new FaultConfigError('script must be an array');
    config.script = value.script.map(parseFault);
  }
  if (value.random !== undefined) config.random = parseRandom(value.random);
  return config;
}
