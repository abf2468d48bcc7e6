import type { ServerResponse } from 'node:http';
import type { Fault, FaultPlan } from './simulator-faults';
import { defaultRejection, errorBody, isGone, sendJson, sendRaw, type ErrorShape } from './simulator-http';
import type { Rejection } from './simulator-validation';

export interface SimulatorStats {
  requests: number;
  byStatus: Record<string, number>;
  usersCreated: number;
  duplicateRequests: number;
  resets: number;
  timeouts: number;
  maxCallsPerUser: number;
}

export function emptyStats(): SimulatorStats {
  return { requests: 0, byStatus: {}, usersCreated: 0, duplicateRequests: 0, resets: 0, timeouts: 0, maxCallsPerUser: 0 };
}

/** An answer before it is sent. */
export interface Outcome {
  status: number;
  body: unknown;
}

/**
 * How the simulator answers, for every route: in the configured error shape, each status counted, and the faults a
 * script asks for (a hang, a reset, a scripted status). Reads the current stats and fault plan, which a reset replaces.
 */
export class SimulatorAnswers {
  constructor(
    private readonly errorShape: ErrorShape,
    private readonly apiKeys: ReadonlySet<string>,
    private readonly counters: () => SimulatorStats,
    private readonly faults: () => FaultPlan,
  ) {}

  unauthorized(apiKey: string | string[] | undefined): Outcome | undefined {
    if (typeof apiKey !== 'string' || apiKey === '') return this.rejection(401, 'UNAUTHORIZED', 'API Key is missing');
    if (!this.apiKeys.has(apiKey)) return this.rejection(401, 'UNAUTHORIZED', 'Invalid API Key');
    return undefined;
  }

  hang(res: ServerResponse): void {
    this.counters().timeouts++;
    const timer = setTimeout(() => res.destroy(), this.faults().timeoutHangMs).unref();
    res.once('close', () => clearTimeout(timer));
  }

  resetConnection(res: ServerResponse): void {
    if (isGone(res)) return;
    this.counters().resets++;
    res.destroy();
  }

  scriptedStatus(res: ServerResponse, fault: Extract<Fault, { kind: 'status' }>): void {
    if (isGone(res)) return;
    const headers = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
    this.countStatus(fault.status);
    if (typeof fault.body === 'string') return sendRaw(res, fault.status, fault.body, 'text/plain; charset=utf-8', headers);
    const body = fault.body !== undefined ? fault.body : errorBody(this.errorShape, defaultRejection(fault.status));
    sendJson(res, fault.status, body, headers);
  }

  rejected(res: ServerResponse, rejection: Rejection): void {
    this.answer(res, rejection.status, errorBody(this.errorShape, rejection));
  }

  answer(res: ServerResponse, status: number, body: unknown): void {
    if (isGone(res)) return;
    this.countStatus(status);
    sendJson(res, status, body);
  }

  rejection(status: number, code: string, message: string): Outcome {
    return { status, body: errorBody(this.errorShape, { status, code, message }) };
  }

  errorBody(rejection: Rejection): unknown {
    return errorBody(this.errorShape, rejection);
  }

  private countStatus(status: number): void {
    const key = String(status);
    const counters = this.counters();
    counters.byStatus[key] = (counters.byStatus[key] ?? 0) + 1;
  }
}
