import type { FastifyInstance } from 'fastify';

/** A background drive's span: what it is called, the trace that caused the work, and attributes safe to export. */
export interface DriveSpan {
  name: string;
  /** The W3C traceparent stored with the row or event when the request that caused it wrote it (a span link). */
  causedBy?: string | null;
  attributes?: Record<string, string | number | boolean>;
}

/** What the started SDK does for the app (tracing-sdk.ts); absent when tracing is off. */
export interface ActiveTracing {
  traceparent(): string | undefined;
  inDrive<T>(span: DriveSpan, work: () => Promise<T>): Promise<T>;
  untraced<T>(work: () => Promise<T>): Promise<T>;
  nameServerSpans(fastify: FastifyInstance): void;
  flush(withinMs: number): Promise<void>;
}

let active: ActiveTracing | undefined;

/**
 * The app's only door to tracing. Off (no OTLP endpoint, or OTEL_SDK_DISABLED=true), every function here is one
 * `undefined` check: no OpenTelemetry module is loaded and no context is touched on the request path.
 */
export const tracing = {
  get enabled(): boolean {
    return active !== undefined;
  },

  /** Called once by src/instrument.ts when the SDK has started. */
  activate(started: ActiveTracing): void {
    active = started;
  },

  /** The active span's W3C traceparent, stored with a row or event so that the drive that finishes it links back. */
  traceparent(): string | undefined {
    return active?.traceparent();
  },

  /** Runs a background drive in a trace of its own (a span linked to `span.causedBy`), its queries and calls inside. */
  inDrive<T>(span: DriveSpan, work: () => Promise<T>): Promise<T> {
    return active === undefined ? work() : active.inDrive(span, work);
  },

  /** Runs a background poll with tracing suppressed: a poll that finds no work exports nothing. */
  untraced<T>(work: () => Promise<T>): Promise<T> {
    return active === undefined ? work() : active.untraced(work);
  },

  /** Names each SERVER span `METHOD /route/:template` (http.route), never the raw path. */
  nameServerSpans(fastify: FastifyInstance): void {
    active?.nameServerSpans(fastify);
  },

  /** Exports what is pending, giving up after `withinMs` (shutdown). */
  async flush(withinMs: number): Promise<void> {
    await active?.flush(withinMs);
  },
};
