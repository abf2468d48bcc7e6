import { once } from 'node:events';
import { IncomingHttpHeaders, Server, createServer } from 'node:http';

/** One exported span, flattened from OTLP/JSON (ids as hex, attributes as plain values). */
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
  service: string;
  /** Start and end, in milliseconds since the epoch (OTLP sends nanoseconds as strings). */
  startMs: number;
  endMs: number;
}

export const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

/** A minimal OTLP/HTTP collector for `http/json`: keeps every body it was sent, raw and as spans. */
export class OtlpReceiver {
  readonly bodies: string[] = [];
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  private readonly server: Server;
  url = '';

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ path: request.url ?? '', headers: request.headers });
        this.bodies.push(Buffer.concat(chunks).toString('utf8'));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }

  /** Everything exported so far, as one string (to search for what must never be there). */
  get raw(): string {
    return this.bodies.join('\n');
  }

  spans(): ExportedSpan[] {
    const spans: ExportedSpan[] = [];
    for (const body of this.bodies) {
      const parsed = JSON.parse(body) as { resourceSpans?: any[] };
      for (const resourceSpans of parsed.resourceSpans ?? []) {
        const service = String(plain(resourceSpans.resource?.attributes ?? [])['service.name']);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId ?? '',
              name: span.name,
              kind: span.kind,
              attributes: plain(span.attributes ?? []),
              links: (span.links ?? []).map((link: any) => ({ traceId: link.traceId, spanId: link.spanId })),
              service,
              startMs: Number(BigInt(span.startTimeUnixNano ?? 0) / 1000n) / 1000,
              endMs: Number(BigInt(span.endTimeUnixNano ?? 0) / 1000n) / 1000,
            });
          }
        }
      }
    }
    return spans;
  }
}

function plain(attributes: Array<{ key: string; value: Record<string, unknown> }>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const { key, value } of attributes) {
    const [kind, raw] = Object.entries(value)[0] ?? [];
    result[key] = kind === 'intValue' ? Number(raw) : raw;
  }
  return result;
}

/** The spans of one trace as an indented tree (children under their parent, in start order), with each span's duration. */
export function spanTree(spans: ExportedSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanId));
  const byStart = [...spans].sort((a, b) => a.startMs - b.startMs);
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const span of byStart.filter((candidate) => (ids.has(candidate.parentSpanId) ? candidate.parentSpanId : '') === parent)) {
      const kind = Object.entries(SPAN_KIND).find(([, value]) => value === span.kind)?.[0] ?? String(span.kind);
      lines.push(`${'  '.repeat(depth)}${span.name} [${kind}] ${(span.endMs - span.startMs).toFixed(1)} ms`);
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
