import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SimulatorAnswers, emptyStats, type SimulatorStats } from './simulator-answers';
import { CONTROL_PREFIX, handleControlRequest } from './simulator-control';
import { CREATE_USER_PATH, MAX_CREATE_USER_BODY_BYTES, SimulatedCreateUser, type CreateUserCallSpan, type DuplicateMode, type SimulatedUser } from './simulator-create-user';
import { FaultPlan, type FaultConfig } from './simulator-faults';
import { defaultRejection, delay, parseJson, readBody, sendJson, type ErrorShape } from './simulator-http';
import { SimulatorNotifications, type NotificationApiSettings, type NotificationAnswer } from './simulator-notifications';
import { handleWebhookControl } from './simulator-webhook-control';
import { SimulatorVerification, type VerificationSettings } from './simulator-verification';
import { SimulatorWebhooks, type WebhookFormat, type WebhookNotification, type WebhookSettings } from './simulator-webhooks';

export type { Fault, FaultConfig, RandomFaults } from './simulator-faults';
export type { CreateUserPayload } from './simulator-validation';
export type { ErrorShape } from './simulator-http';
export type { WebhookNotification, WebhookSettings } from './simulator-webhooks';
export type { SimulatorStats } from './simulator-answers';
export type { RetryCall } from './simulator-notifications';
export { CREATE_USER_PATH, MAX_CREATE_USER_BODY_BYTES } from './simulator-create-user';
export type { CreateUserCallSpan, DuplicateMode, SimulatedUser } from './simulator-create-user';

const WEBHOOK_SETTINGS_PATH = '/api/partner/v2/webhook-settings';
export const DEFAULT_SANDBOX_API_KEY = 'sandbox-partner-key';

export interface CapaSimulatorOptions {
  apiKeys?: string[];
  latencyMs?: number;
  duplicateMode?: DuplicateMode;
  errorShape?: ErrorShape;
  /** Where and how it sends Capa's webhooks (verification results, transactions). */
  webhooks?: WebhookSettings;
  verification?: VerificationSettings;
}

/**
 * In-memory stand-in for Capa's partner API (create user, verification links and details, webhook settings), with
 * fault injection and an HTTP control API. Each route's logic lives in its own file; this class routes and holds them.
 */
export class CapaSimulator {
  private readonly baseLatencyMs: number;
  private readonly answers: SimulatorAnswers;
  private readonly createUserRoute: SimulatedCreateUser;
  private counters = emptyStats();
  private faultPlan = new FaultPlan();
  private server: Server | undefined;
  private baseUrl: string | undefined;
  /** Capa's webhooks, sent on request (the control API) to the configured URL, retried on Capa's schedule. */
  readonly webhooks: SimulatorWebhooks;
  /** Capa's verification-link and details endpoints. */
  readonly verification = new SimulatorVerification();
  /** Capa's webhook notification API: list, detail and manual retry of what `webhooks` sent. */
  readonly notifications: SimulatorNotifications;

  constructor(options: CapaSimulatorOptions = {}) {
    this.webhooks = new SimulatorWebhooks(options.webhooks);
    this.notifications = new SimulatorNotifications(this.webhooks);
    this.verification.configure(options.verification ?? {});
    this.baseLatencyMs = options.latencyMs ?? 0;
    const apiKeys = new Set(options.apiKeys ?? [DEFAULT_SANDBOX_API_KEY]);
    this.answers = new SimulatorAnswers(options.errorShape ?? 'nest', apiKeys, () => this.counters, () => this.faultPlan);
    this.createUserRoute = new SimulatedCreateUser(
      { baseLatencyMs: this.baseLatencyMs, duplicateMode: options.duplicateMode ?? 'same-id' },
      this.answers,
      () => this.counters,
      () => this.faultPlan,
    );
  }

  get url(): string {
    if (!this.baseUrl) throw new Error('CapaSimulator is not started');
    return this.baseUrl;
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.server) throw new Error('CapaSimulator is already started');
    const server = createServer((req, res) => {
      this.route(req, res).catch(() => sendJson(res, 500, this.answers.errorBody(defaultRejection(500))));
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
    this.notifications.reset();
    this.verification.reset();
    this.createUserRoute.reset();
    this.counters = emptyStats();
    this.faultPlan = new FaultPlan();
  }

  stats(): SimulatorStats {
    return { ...this.counters, byStatus: { ...this.counters.byStatus } };
  }

  createUserRequestTimes(): number[] {
    return this.createUserRoute.arrivals();
  }

  createUserCallSpans(): CreateUserCallSpan[] {
    return this.createUserRoute.spans();
  }

  /** Pairs of create-user calls for one externalUserId that were open at the same time (an open call counts as running). */
  overlappingCalls(): Array<[CreateUserCallSpan, CreateUserCallSpan]> {
    return this.createUserRoute.overlappingCalls();
  }

  userFor(externalUserId: string): SimulatedUser | undefined {
    return this.createUserRoute.userFor(externalUserId);
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

  configureWebhooks(settings: WebhookSettings & VerificationSettings & NotificationApiSettings): void {
    this.webhooks.configure(settings);
    this.verification.configure(settings);
    this.notifications.configure(settings);
  }

  callsFor(externalUserId: string): number {
    return this.createUserRoute.callsFor(externalUserId);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path, query = ''] = (req.url ?? '/').split('?', 2);
    if (req.method === 'POST' && path === CREATE_USER_PATH) return this.createUserRoute.handle(req, res);
    if (this.verification.matches(req.method, path)) return this.handleVerification(req, res, path, new URLSearchParams(query));
    if (this.notifications.matches(req.method, path)) {
      return this.handlePartnerCall(req, res, async () => this.notifications.handle(req, path, new URLSearchParams(query)));
    }
    if (req.method === 'PUT' && path === WEBHOOK_SETTINGS_PATH) return this.handleWebhookSettings(req, res);
    if (path.startsWith(CONTROL_PREFIX) && (await handleWebhookControl(this, req, res, path))) return;
    if (path.startsWith(CONTROL_PREFIX) && (await handleControlRequest(this, req, res, path))) return;
    sendJson(res, 404, this.answers.errorBody({ status: 404, code: 'NOT_FOUND_ERROR', message: `Cannot ${req.method} ${path}` }));
  }

  /** Capa's link and details endpoints, behind the same key check and scripted faults as create. */
  private handleVerification(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    return this.handlePartnerCall(req, res, () => this.verification.handle(req, path, query, (userId) => this.createUserRoute.byUserId(userId)));
  }

  /** A v2 partner call behind the same scripted faults and key check as create. */
  private async handlePartnerCall(req: IncomingMessage, res: ServerResponse, handle: () => Promise<NotificationAnswer>): Promise<void> {
    this.counters.requests++;
    const fault = this.faultPlan.nextFault();
    if (fault?.kind === 'timeout') return this.answers.hang(res);
    await delay(this.faultPlan.delayMs(this.baseLatencyMs));
    if (fault?.kind === 'reset' || fault?.kind === 'commit-then-reset') return this.answers.resetConnection(res);
    if (fault?.kind === 'status') return this.answers.scriptedStatus(res, fault);
    if (fault?.kind === 'commit-then-500') return this.answers.rejected(res, defaultRejection(500));
    const unauthorized = this.answers.unauthorized(req.headers['partner-api-key']);
    if (unauthorized !== undefined) return this.answers.answer(res, unauthorized.status, unauthorized.body);
    const answer = await handle();
    if ('rejection' in answer) return this.answers.rejected(res, answer.rejection);
    this.answers.answer(res, answer.status, answer.body);
  }

  /** Capa's `PUT /api/partner/v2/webhook-settings` `{url}`: the one webhook URL of the partner. */
  private async handleWebhookSettings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const unauthorized = this.answers.unauthorized(req.headers['partner-api-key']);
    if (unauthorized !== undefined) return this.answers.answer(res, unauthorized.status, unauthorized.body);
    const body = await readBody(req, MAX_CREATE_USER_BODY_BYTES);
    const json = body.outcome === 'complete' ? parseJson(body.text) : { ok: false as const };
    const url = json.ok && typeof json.value === 'object' && json.value !== null ? (json.value as { url?: unknown }).url : undefined;
    if (url !== null && (typeof url !== 'string' || !/^https?:\/\//.test(url))) {
      return this.answers.rejected(res, { status: 400, code: 'INVALID_USER_INPUT_ERROR', message: 'url must be an http(s) URL or null' });
    }
    this.webhooks.configure({ url });
    this.answers.answer(res, 200, { success: true, data: { url } });
  }
}
