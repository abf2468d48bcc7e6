import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorAnswers, Outcome, SimulatorStats } from './simulator-answers';
import type { FaultPlan } from './simulator-faults';
import { defaultRejection, delay, isJsonContentType, parseJson, readBody, type BodyReadResult, type JsonParseResult } from './simulator-http';
import { validateCreateUserBody, type CreateUserPayload } from './simulator-validation';
import type { SimulatedCapaUser } from './simulator-verification';

export const CREATE_USER_PATH = '/api/partner/v1/user';
export const MAX_CREATE_USER_BODY_BYTES = 16 * 1024;

export type DuplicateMode = 'same-id' | 'error';

export interface SimulatedUser {
  userId: string;
  calls: number;
  payload: CreateUserPayload;
}

/**
 * One create-user call as the simulator saw it: from its arrival to the moment its connection was done with (answered,
 * reset, or closed by the client), in epoch ms; `end` null while it is still open.
 */
export interface CreateUserCallSpan {
  externalUserId: string | null;
  start: number;
  end: number | null;
}

export interface CreateUserSettings {
  baseLatencyMs: number;
  duplicateMode: DuplicateMode;
}

/** Capa's `POST /api/partner/v1/user`: the users it created, when each call was open, and its faults. */
export class SimulatedCreateUser {
  private readonly users = new Map<string, { userId: string; payload: CreateUserPayload }>();
  private readonly callsByUser = new Map<string, number>();
  /** When each create-user request arrived (epoch ms), for tests that check the pace of calls. */
  private requestTimes: number[] = [];
  private callSpans: CreateUserCallSpan[] = [];

  constructor(
    private readonly settings: CreateUserSettings,
    private readonly answers: SimulatorAnswers,
    private readonly counters: () => SimulatorStats,
    private readonly faults: () => FaultPlan,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters().requests++;
    this.requestTimes.push(Date.now());
    const span: CreateUserCallSpan = { externalUserId: null, start: Date.now(), end: null };
    this.callSpans.push(span);
    res.once('close', () => (span.end = Date.now()));
    // Taken before anything else so a script can fake any answer, auth failures included.
    const fault = this.faults().nextFault();
    const body = await readBody(req, MAX_CREATE_USER_BODY_BYTES);
    if (body.outcome === 'aborted') return;
    const json: JsonParseResult = body.outcome === 'complete' ? parseJson(body.text) : { ok: false };
    const calls = this.countCall(json);
    span.externalUserId = externalUserIdOf(json) ?? null;

    if (fault?.kind === 'timeout') return this.answers.hang(res);
    await delay(this.faults().delayMs(this.settings.baseLatencyMs));

    if (fault?.kind === 'reset') return this.answers.resetConnection(res);
    if (fault?.kind === 'status') return this.answers.scriptedStatus(res, fault);

    // Processed even if the client has given up meanwhile: a real server commits regardless.
    const outcome = this.createUser(req, body, json);
    if (calls === 1 && this.faults().firstCallLatencyMs > 0) await delay(this.faults().firstCallLatencyMs);
    if (fault?.kind === 'commit-then-reset') return this.answers.resetConnection(res);
    if (fault?.kind === 'commit-then-500') return this.answers.rejected(res, defaultRejection(500));
    this.answers.answer(res, outcome.status, outcome.body);
  }

  reset(): void {
    this.users.clear();
    this.callsByUser.clear();
    this.requestTimes = [];
    this.callSpans = [];
  }

  arrivals(): number[] {
    return [...this.requestTimes];
  }

  spans(): CreateUserCallSpan[] {
    return this.callSpans.map((span) => ({ ...span }));
  }

  /** Pairs of create-user calls for one externalUserId that were open at the same time (an open call counts as running). */
  overlappingCalls(): Array<[CreateUserCallSpan, CreateUserCallSpan]> {
    const overlaps: Array<[CreateUserCallSpan, CreateUserCallSpan]> = [];
    const spans = this.spans().filter((span) => span.externalUserId !== null);
    for (const [i, first] of spans.entries()) {
      for (const second of spans.slice(i + 1)) {
        if (first.externalUserId !== second.externalUserId) continue;
        const [earlier, later] = first.start <= second.start ? [first, second] : [second, first];
        if (earlier.end === null || later.start < earlier.end) overlaps.push([earlier, later]);
      }
    }
    return overlaps;
  }

  userFor(externalUserId: string): SimulatedUser | undefined {
    const user = this.users.get(externalUserId);
    if (!user) return undefined;
    return { userId: user.userId, calls: this.callsFor(externalUserId), payload: { ...user.payload } };
  }

  callsFor(externalUserId: string): number {
    return this.callsByUser.get(externalUserId) ?? 0;
  }

  byUserId(userId: string): SimulatedCapaUser | undefined {
    for (const user of this.users.values()) if (user.userId === userId) return user;
    return undefined;
  }

  private createUser(req: IncomingMessage, body: BodyReadResult, json: JsonParseResult): Outcome {
    const unauthorized = this.answers.unauthorized(req.headers['partner-api-key']);
    if (unauthorized !== undefined) return unauthorized;
    if (body.outcome === 'too-large') return this.answers.rejection(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    if (!isJsonContentType(req.headers['content-type'])) {
      return this.answers.rejection(400, 'BAD_REQUEST', 'Content-Type must be application/json');
    }
    if (!json.ok) return this.answers.rejection(400, 'BAD_REQUEST', 'Request body is not valid JSON');

    const validation = validateCreateUserBody(json.value);
    if (!validation.ok) return { status: validation.rejection.status, body: this.answers.errorBody(validation.rejection) };

    const { payload } = validation;
    const existing = this.users.get(payload.externalUserId);
    if (existing) {
      this.counters().duplicateRequests++;
      if (this.settings.duplicateMode === 'error') {
        return this.answers.rejection(409, 'CONFLICT', 'User with this externalUserId already exists');
      }
      return { status: 201, body: { status: 'ok', data: { userId: existing.userId } } };
    }
    const userId = randomUUID();
    this.users.set(payload.externalUserId, { userId, payload });
    this.counters().usersCreated++;
    return { status: 201, body: { status: 'ok', data: { userId } } };
  }

  /** Counts a call for its externalUserId; answers how many calls that id has had, this one included (0: no id). */
  private countCall(json: JsonParseResult): number {
    const externalUserId = externalUserIdOf(json);
    if (externalUserId === undefined) return 0;
    const calls = (this.callsByUser.get(externalUserId) ?? 0) + 1;
    this.callsByUser.set(externalUserId, calls);
    const counters = this.counters();
    if (calls > counters.maxCallsPerUser) counters.maxCallsPerUser = calls;
    return calls;
  }
}

function externalUserIdOf(json: JsonParseResult): string | undefined {
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return undefined;
  const externalUserId = (json.value as Record<string, unknown>).externalUserId;
  return typeof externalUserId === 'string' && externalUserId !== '' ? externalUserId : undefined;
}
