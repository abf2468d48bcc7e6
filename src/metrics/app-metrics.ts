import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CapaObserver } from '../capa/capa-observer';
import type { CircuitStatus } from '../capa/capa.gateway';

const CIRCUIT_STATES: CircuitStatus[] = ['closed', 'half-open', 'open'];

/**
 * The service's Prometheus metrics, in a registry of its own (not prom-client's global one), so every app instance
 * reports only itself. Labels are low-cardinality: route templates, status codes, outcomes; never ids or keys.
 */
@Injectable()
export class AppMetrics implements OnModuleInit {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly capaCalls = new Counter({
    name: 'capa_calls_total',
    help: "Calls to Capa's create-user endpoint, by outcome",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly capaDuration = new Histogram({
    name: 'capa_call_duration_seconds',
    help: "Latency of calls to Capa's create-user endpoint, by outcome",
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly retryBudget = new Counter({
    name: 'capa_retries_total',
    help: 'Retries of Capa calls (in-request and background), by what the retry budget decided: allowed (sent) or refused',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });
  readonly userIdConflicts = new Counter({
    name: 'capa_user_id_conflicts_total',
    help:
      'userIds from Capa that could not be attached: second-user-id (a CREATED signup got another one; the first is kept), ' +
      'user-id-taken (another signup holds it). Each is in the attempt log; alert on any increase',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly circuit = new Gauge({
    name: 'capa_circuit_state',
    help: 'Circuit breaker in front of Capa: 1 for the current state (closed, half-open, open), 0 for the others',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  constructor(private readonly observer: CapaObserver) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry });
    this.setCircuit('closed');
    for (const decision of ['allowed', 'refused'] as const) this.retryBudget.inc({ decision }, 0);
    this.observer.subscribe({
      callFinished: (attempt) => {
        this.capaCalls.inc({ outcome: attempt.outcome });
        this.capaDuration.observe({ outcome: attempt.outcome }, attempt.latencyMs / 1000);
      },
      circuitChanged: (status) => this.setCircuit(status),
      retryDecided: (decision) => this.retryBudget.inc({ decision }),
    });
  }

  /** Called once per answered request by the Fastify onResponse hook. */
  recordRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  private setCircuit(status: CircuitStatus): void {
    for (const state of CIRCUIT_STATES) this.circuit.set({ state }, state === status ? 1 : 0);
  }
}
