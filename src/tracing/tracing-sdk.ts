import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { getRPCMetadata, parseTraceParent, RPCType, setGlobalErrorHandler, suppressTracing } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import type { ActiveTracing, DriveSpan } from './tracing';

/** Probes and scrapes every few seconds would be most of the traces and tell nothing. */
const UNTRACED_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);
const FAILURE_LOG_INTERVAL_MS = 60_000;
const TRACER_NAME = 'capa-onboarding';

/**
 * Starts the OpenTelemetry Node SDK from the OTEL_* environment (exporter, protocol, headers, sampler, batch
 * settings, propagators, resource), traces only, with the instrumentations this service needs. Loaded by
 * src/instrument.ts only when tracing is requested, before any instrumented module (http, pg, undici, pino) loads.
 */
export function startTracingSdk(): ActiveTracing {
  setGlobalErrorHandler(exportFailureLog());
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(pathOf(request)),
        // A query string may carry a filter value (an admin search): url.path and http.route are kept, the query not.
        startIncomingSpanHook: () => ({ 'url.query': undefined }),
        // Outgoing calls are traced inside a request or a drive only: an idle poll exports nothing.
        requireParentforOutgoingSpans: true,
      }),
      new UndiciInstrumentation({
        requireParentforSpans: true,
        // An endpoint URL's query may hold the receiver's token: the span gets the URL without it.
        startSpanHook: (request) => ({ 'url.full': `${request.origin}${request.path.split('?')[0]}`, 'url.query': undefined }),
      }),
      // Statement text only (parameters are never recorded: enhancedDatabaseReporting stays off).
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true, enhancedDatabaseReporting: false }),
      // trace_id and span_id on every log line written inside a span; log records are not exported.
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  const tracer = trace.getTracer(TRACER_NAME);

  return {
    traceparent() {
      const span = trace.getSpan(context.active());
      if (span === undefined) return undefined;
      const { traceId, spanId, traceFlags } = span.spanContext();
      if (!trace.isSpanContextValid(span.spanContext())) return undefined;
      return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    },

    inDrive<T>(drive: DriveSpan, work: () => Promise<T>): Promise<T> {
      const cause = drive.causedBy ? parseTraceParent(drive.causedBy) : null;
      const links: Link[] = cause === null ? [] : [{ context: cause }];
      // A trace of its own (ROOT_CONTEXT also leaves the poll's suppression behind), linked to the request's.
      return tracer.startActiveSpan(drive.name, { kind: SpanKind.INTERNAL, root: true, links, attributes: drive.attributes }, ROOT_CONTEXT, async (span) => {
        try {
          return await work();
        } catch (error) {
          // The error's type only: messages may quote Capa's answer.
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.setAttribute('error.type', error instanceof Error ? error.constructor.name : typeof error);
          throw error;
        } finally {
          span.end();
        }
      });
    },

    untraced<T>(work: () => Promise<T>): Promise<T> {
      return context.with(suppressTracing(context.active()), work);
    },

    nameServerSpans(fastify: FastifyInstance) {
      // The HTTP instrumentation names the SERVER span `METHOD route` and sets http.route from this, at its end.
      fastify.addHook('onRequest', (request, _reply, done) => {
        const metadata = getRPCMetadata(context.active());
        const route = request.routeOptions.url;
        if (metadata?.type === RPCType.HTTP && route !== undefined) metadata.route = route;
        done();
      });
    },

    async flush(withinMs: number) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, withinMs))));
      await Promise.race([sdk.shutdown().catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
  };
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Export failures (collector down, refused, timed out) as one warn line a minute at most, with how many were folded
 * into it; they never reach a request. The line is pino's shape (the app's logger may not exist yet).
 */
function exportFailureLog(): (error: unknown) => void {
  let lastAt = -Infinity;
  let folded = 0;
  return (error) => {
    const now = Date.now();
    if (now - lastAt < FAILURE_LOG_INTERVAL_MS) {
      folded++;
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const line = {
      level: 40,
      time: now,
      pid: process.pid,
      hostname: hostname(),
      context: 'Tracing',
      msg: `Trace export failed: ${message.slice(0, 200)}${folded > 0 ? ` (and ${folded} more failures since the last report)` : ''}`,
    };
    lastAt = now;
    folded = 0;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
}
