import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_PREFIX, handleControlRequest } from './simulator-control';
import { FaultPlan, type Fault, type FaultConfig } from './simulator-faults';
import {
  defaultRejection,
  delay,
  errorBody,
  isGone,
  isJsonContentType,
  parseJson,
  readBody,
  sendJson,
  sendRaw,
  type BodyReadResult,
  type ErrorShape,
  type JsonParseResult,
} from './simulator-http';
import { validateCreateUserBody, type CreateUserPayload, type Rejection } from './simulator-validation';
import { handleWebhookControl } from './simulator-webhook-control';
import { SimulatorVerification, type SimulatedCapaUser, type VerificationSettings } from './simulator-verification';
import { SimulatorWebhooks, type WebhookFormat, type WebhookNotification, type WebhookSettings } from './simulator-webhooks';

export type { Fault, FaultConfig, RandomFaults } from './simulator-faults';
export type { CreateUserPayload } from './simulator-validation';
export type { ErrorShape } from './simulator-http';
export type { WebhookNotification, WebhookSettings } from './simulator-webhooks';

export const CREATE_USER_PATH = '/api/partner/v1/user';
const WEBHOOK_SETTINGS_PATH = '/api/partner/v2/webhook-settings';
export const DEFAULT_SANDBOX_API_KEY = 'sandbox-partner-key';
export const MAX_CREATE_USER_BODY_BYTES = 16 * 1024;

export type DuplicateMode = 'same-id' | 'error';

export interface CapaSimulatorOptions {
  apiKeys?: string[];
  latencyMs?: number;
  duplicateMode?: DuplicateMode;
  errorShape?: ErrorShape;
  /** Where and how it sends Capa's webhooks (verification results, transactions). */
  webhooks?: WebhookSettings;
  verification?: VerificationSettings;
}

export interface SimulatorStats {
  requests: number;
  byStatus: Record<string, number>;
  usersCreated: number;
  duplicateRequests: number;
  resets: number;
  timeouts: number;
  maxCallsPerUser: number;
}

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

interface Outcome {
  status: number;
  body: unknown;
}

function emptyStats(): SimulatorStats {
  return { requests: 0, byStatus: {}, usersCreated: 0, duplicateRequests: 0, resets: 0, timeouts: 0, maxCallsPerUser: 0 };
}

/** In-memory stand-in for Capa's `POST /api/partner/v1/user`, with fault injection and an HTTP control API. */
export class CapaSimulator {
  private readonly apiKeys: ReadonlySet<string>;
  private readonly baseLatencyMs: number;
  private readonly duplicateMode: DuplicateMode;
  private readonly errorShape: ErrorShape;
  private readonly users = new Map<string, { userId: string; payload: CreateUserPayload }>();
  private readonly callsByUser = new Map<string, number>();
  private counters = emptyStats();
  /** When each create-user request arrived (epoch ms), for tests that check the pace of calls. */
  private requestTimes: number[] = [];
  private callSpans: CreateUserCallSpan[] = [];
  private faultPlan = new FaultPlan();
  private server: Server | undefined;
  private baseUrl: string | undefined;
  /** Capa's webhooks, sent on request (the control API) to the configured URL, retried on Capa's schedule. */
  readonly webhooks: SimulatorWebhooks;
  /** Capa's verification-link and details endpoints. */
  readonly verification = new SimulatorVerification();

  constructor(options: CapaSimulatorOptions = {}) {
    this.webhooks = new SimulatorWebhooks(options.webhooks);
    this.verification.configure(options.verification ?? {});
    this.apiKeys = new Set(options.apiKeys ?? [DEFAULT_SANDBOX_API_KEY]);
    this.baseLatencyMs = options.latencyMs ?? 0;
    this.duplicateMode = options.duplicateMode ?? 'same-id';
    this.errorShape = options.errorShape ?? 'nest';
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('CapaSimulator is not started');
    return this.baseUrl;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('CapaSimulator is already started');
    const server = createServer((req, res) => {
      this.route(req, res).catch(() => sendJson(res, 500, errorBody(this.errorShape, defaultRejection(500))));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.server = server;
    this.baseUrl = `http://${urlHost}:${address.port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.baseUrl = undefined;
    this.webhooks.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Also destroys in-flight requests, including ones held open by a 'timeout' fault.
    server.closeAllConnections();
    await closed;
  }

  /** Replaces the current fault configuration (and restarts its script queue and PRNG). */
  setFaults(faults: FaultConfig): void {
    this.faultPlan = new FaultPlan(faults);
  }

  reset(): void {
    this.webhooks.reset();
    this.verification.reset();
    this.users.clear();
    this.callsByUser.clear();
    this.counters = emptyStats();
    this.requestTimes = [];
    this.callSpans = [];
    this.faultPlan = new FaultPlan();
  }

  stats(): SimulatorStats {
    return { ...this.counters, byStatus: { ...this.counters.byStatus } };
  }

  createUserRequestTimes(): number[] {
    return [...this.requestTimes];
  }

  createUserCallSpans(): CreateUserCallSpan[] {
    return this.callSpans.map((span) => ({ ...span }));
  }

  /** Pairs of create-user calls for one externalUserId that were open at the same time (an open call counts as running). */
  overlappingCalls(): Array<[CreateUserCallSpan, CreateUserCallSpan]> {
    const overlaps: Array<[CreateUserCallSpan, CreateUserCallSpan]> = [];
    const spans = this.createUserCallSpans().filter((span) => span.externalUserId !== null);
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

  /** Sends Capa's KYC webhook for this user (and remembers the verdict its details endpoint then reports). */
  sendKycEvent(externalUserId: string, event: string, format?: WebhookFormat): WebhookNotification {
    this.verification.recordEvent(externalUserId, event);
    return this.webhooks.send({ type: 'KYC', event, externalUserId }, format);
  }

  sendWebhook(payload: unknown, format?: WebhookFormat): WebhookNotification {
    return this.webhooks.send(payload, format);
  }

  webhookNotifications(): WebhookNotification[] {
    return this.webhooks.list();
  }

  configureWebhooks(settings: WebhookSettings & VerificationSettings): void {
    this.webhooks.configure(settings);
    this.verification.configure(settings);
  }

  callsFor(externalUserId: string): number {
    return this.callsByUser.get(externalUserId) ?? 0;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path, query = ''] = (req.url ?? '/').split('?', 2);
    if (req.method === 'POST' && path === CREATE_USER_PATH) return this.handleCreateUser(req, res);
    if (this.verification.matches(req.method, path)) return this.handleVerification(req, res, path, new URLSearchParams(query));
    if (req.method === 'PUT' && path === WEBHOOK_SETTINGS_PATH) return this.handleWebhookSettings(req, res);
    if (path.startsWith(CONTROL_PREFIX) && (await handleWebhookControl(this, req, res, path))) return;
    if (path.startsWith(CONTROL_PREFIX) && (await handleControlRequest(this, req, res, path))) return;
    sendJson(res, 404, errorBody(this.errorShape, { status: 404, code: 'NOT_FOUND_ERROR', message: `Cannot ${req.method} ${path}` }));
  }

  private async handleCreateUser(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++;
    this.requestTimes.push(Date.now());
    const span: CreateUserCallSpan = { externalUserId: null, start: Date.now(), end: null };
    this.callSpans.push(span);
    res.once('close', () => (span.end = Date.now()));
    // Taken before anything else so a script can fake any answer, auth failures included.
    const fault = this.faultPlan.nextFault();
    const body = await readBody(req, MAX_CREATE_USER_BODY_BYTES);
    if (body.outcome === 'aborted') return;
    const json: JsonParseResult = body.outcome === 'complete' ? parseJson(body.text) : { ok: false };
    const calls = this.countCall(json);
    span.externalUserId = externalUserIdOf(json) ?? null;

    if (fault?.kind === 'timeout') return this.hang(res);
    await delay(this.faultPlan.delayMs(this.baseLatencyMs));

    if (fault?.kind === 'reset') return this.resetConnection(res);
    if (fault?.kind === 'status') return this.answerScriptedStatus(res, fault);

    // Processed even if the client has given up meanwhile: a real server commits regardless.
    const outcome = this.createUser(req, body, json);
    if (calls === 1 && this.faultPlan.firstCallLatencyMs > 0) await delay(this.faultPlan.firstCallLatencyMs);
    if (fault?.kind === 'commit-then-reset') return this.resetConnection(res);
    if (fault?.kind === 'commit-then-500') return this.answerRejection(res, defaultRejection(500));
    this.answer(res, outcome.status, outcome.body);
  }

  /** Capa's link and details endpoints, behind the same key check and scripted faults as create. */
  private async handleVerification(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    this.counters.requests++;
    const fault = this.faultPlan.nextFault();
    if (fault?.kind === 'timeout') return this.hang(res);
    await delay(this.faultPlan.delayMs(this.baseLatencyMs));
    if (fault?.kind === 'reset' || fault?.kind === 'commit-then-reset') return this.resetConnection(res);
    if (fault?.kind === 'status') return this.answerScriptedStatus(res, fault);
    if (fault?.kind === 'commit-then-500') return this.answerRejection(res, defaultRejection(500));
    const unauthorized = this.unauthorized(req);
    if (unauthorized !== undefined) return this.answer(res, unauthorized.status, unauthorized.body);
    const answer = await this.verification.handle(req, path, query, (userId) => this.userByCapaId(userId));
    if ('rejection' in answer) return this.answerRejection(res, answer.rejection);
    this.answer(res, answer.status, answer.body);
  }

  /** Capa's `PUT /api/partner/v2/webhook-settings` `{url}`: the one webhook URL of the partner. */
  private async handleWebhookSettings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const unauthorized = this.unauthorized(req);
    if (unauthorized !== undefined) return this.answer(res, unauthorized.status, unauthorized.body);
    const body = await readBody(req, MAX_CREATE_USER_BODY_BYTES);
    const json = body.outcome === 'complete' ? parseJson(body.text) : { ok: false as const };
    const url = json.ok && typeof json.value === 'object' && json.value !== null ? (json.value as { url?: unknown }).url : undefined;
    if (url !== null && (typeof url !== 'string' || !/^https?:\/\//.test(url))) {
      return this.answerRejection(res, { status: 400, code: 'INVALID_USER_INPUT_ERROR', message: 'url must be an http(s) URL or null' });
    }
    this.webhooks.configure({ url });
    this.answer(res, 200, { success: true, data: { url } });
  }

  private unauthorized(req: IncomingMessage): Outcome | undefined {
    const apiKey = req.headers['partner-api-key'];
    if (typeof apiKey !== 'string' || apiKey === '') return this.rejection(401, 'UNAUTHORIZED', 'API Key is missing');
    if (!this.apiKeys.has(apiKey)) return this.rejection(401, 'UNAUTHORIZED', 'Invalid API Key');
    return undefined;
  }

  private userByCapaId(userId: string): SimulatedCapaUser | undefined {
    for (const user of this.users.values()) if (user.userId === userId) return user;
    return undefined;
  }

  private createUser(req: IncomingMessage, body: BodyReadResult, json: JsonParseResult): Outcome {
    const unauthorized = this.unauthorized(req);
    if (unauthorized !== undefined) return unauthorized;
    if (body.outcome === 'too-large') return this.rejection(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large');
    if (!isJsonContentType(req.headers['content-type'])) {
      return this.rejection(400, 'BAD_REQUEST', 'Content-Type must be application/json');
    }
    if (!json.ok) return this.rejection(400, 'BAD_REQUEST', 'Request body is not valid JSON');

    const validation = validateCreateUserBody(json.value);
    if (!validation.ok) return { status: validation.rejection.status, body: errorBody(this.errorShape, validation.rejection) };

    const { payload } = validation;
    const existing = this.users.get(payload.externalUserId);
    if (existing) {
      this.counters.duplicateRequests++;
      if (this.duplicateMode === 'error') {
        return this.rejection(409, 'CONFLICT', 'User with this externalUserId already exists');
      }
      return { status: 201, body: { status: 'ok', data: { userId: existing.userId } } };
    }
    const userId = randomUUID();
    this.users.set(payload.externalUserId, { userId, payload });
    this.counters.usersCreated++;
    return { status: 201, body: { status: 'ok', data: { userId } } };
  }

  /** Counts a call for its externalUserId; answers how many calls that id has had, this one included (0: no id). */
  private countCall(json: JsonParseResult): number {
    const externalUserId = externalUserIdOf(json);
    if (externalUserId === undefined) return 0;
    const calls = (this.callsByUser.get(externalUserId) ?? 0) + 1;
    this.callsByUser.set(externalUserId, calls);
    if (calls > this.counters.maxCallsPerUser) this.counters.maxCallsPerUser = calls;
    return calls;
  }

  private hang(res: ServerResponse): void {
    this.counters.timeouts++;
    const timer = setTimeout(() => res.destroy(), this.faultPlan.timeoutHangMs).unref();
    res.once('close', () => clearTimeout(timer));
  }

  private resetConnection(res: ServerResponse): void {
    if (isGone(res)) return;
    this.counters.resets++;
    res.destroy();
  }

  private answerScriptedStatus(res: ServerResponse, fault: Extract<Fault, { kind: 'status' }>): void {
    if (isGone(res)) return;
    const headers = fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {};
    this.countStatus(fault.status);
    if (typeof fault.body === 'string') return sendRaw(res, fault.status, fault.body, 'text/plain; charset=utf-8', headers);
    const body = fault.body !== undefined ? fault.body : errorBody(this.errorShape, defaultRejection(fault.status));
    sendJson(res, fault.status, body, headers);
  }

  private answerRejection(res: ServerResponse, rejection: Rejection): void {
    this.answer(res, rejection.status, errorBody(this.errorShape, rejection));
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    if (isGone(res)) return;
    this.countStatus(status);
    sendJson(res, status, body);
  }

  private countStatus(status: number): void {
    const key = String(status);
    this.counters.byStatus[key] = (this.counters.byStatus[key] ?? 0) + 1;
  }

  private rejection(status: number, code: string, message: string): Outcome {
    return { status, body: errorBody(this.errorShape, { status, code, message }) };
  }
}

function externalUserIdOf(json: JsonParseResult): string | undefined {
  if (!json.ok || typeof json.value !== 'object' || json.value === null) return undefined;
  const externalUserId = (json.value as Record<string, unknown>).externalUserId;
  return typeof externalUserId === 'string' && externalUserId !== '' ? externalUserId : undefined;
}
