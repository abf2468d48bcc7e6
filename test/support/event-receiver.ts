import { once } from 'node:events';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

export interface ReceiverOptions {
  /** Answer 500 to the first `failFirst` attempts of every event id. */
  failFirst?: number;
  /** Accept connections and never answer. */
  hang?: boolean;
  /** Hold each acknowledged delivery this long before answering. */
  delayMs?: number;
}

/** A real HTTP endpoint for event webhooks that verifies each delivery with the standardwebhooks package. */
export class EventReceiver {
  /** Verified deliveries acknowledged with 200, in arrival order. */
  readonly delivered: Array<{ id: string; body: any; at: number; traceparent?: string }> = [];
  readonly attemptsById = new Map<string, number>();
  readonly rejectedSignatures: string[] = [];
  /** While true, every delivery is answered 503. */
  failing = false;
  /** While true, deliveries are read and never answered (as with `hang`), their ids kept in `held`. */
  holding = false;
  readonly held: string[] = [];
  /** Deliveries of one event id that were in flight at the same time as another of the same id. */
  readonly overlapping: string[] = [];
  private readonly inFlight = new Set<string>();
  private readonly webhook: Webhook;
  private readonly server: Server;
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  constructor(
    /** The secret it verifies deliveries with (the one the app must sign with). */
    readonly secret: string,
    private readonly options: ReceiverOptions = {},
  ) {
    this.webhook = new Webhook(secret);
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}/events`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }

  ids(): string[] {
    return this.delivered.map((delivery) => delivery.id);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (this.options.hang || this.holding) {
      this.hanging.add(response);
      if (this.holding) this.held.push(String(request.headers['webhook-id']));
      return;
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const id = String(request.headers['webhook-id']);
    let body: any;
    try {
      body = this.webhook.verify(raw, request.headers as Record<string, string>);
    } catch (error) {
      this.rejectedSignatures.push(`${id}: ${(error as Error).message}`);
      response.writeHead(401).end();
      return;
    }
    const attempts = (this.attemptsById.get(id) ?? 0) + 1;
    this.attemptsById.set(id, attempts);
    if (this.failing || attempts <= (this.options.failFirst ?? 0)) {
      response.writeHead(500).end('not yet');
      return;
    }
    if (this.inFlight.has(id)) this.overlapping.push(id);
    this.inFlight.add(id);
    if (this.options.delayMs) await new Promise((resolve) => setTimeout(resolve, this.options.delayMs));
    this.inFlight.delete(id);
    const traceparent = request.headers.traceparent;
    this.delivered.push({ id, body, at: Date.now(), ...(typeof traceparent === 'string' ? { traceparent } : {}) });
    response.writeHead(204).end();
  }
}

/** A receiver for the enclosing describe: listening from beforeAll (its `url` set), stopped in afterAll. */
export function useEventReceiver(secret: string, options: ReceiverOptions = {}): EventReceiver {
  const receiver = new EventReceiver(secret, options);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  return receiver;
}

/** Polls until `check` is true or `timeoutMs` passes; answers whether it became true. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return check();
}
