import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';

/** Which door an erasure came through: the partner's own deletion flow (inbound token) or an operator. */
export type ErasureDoor = 'api' | 'admin';

/** Erasures done by this replica, by door (never an id in a label). */
@Injectable()
export class ErasureMetrics {
  private readonly erasures: Counter<'door'>;

  constructor(metrics: AppMetrics) {
    this.erasures = new Counter({
      name: 'user_erasures_total',
      help: 'Signups whose personal data this replica erased (GDPR art. 17), by door: api (inbound token) or admin (operator); repeats are not counted',
      labelNames: ['door'],
      registers: [metrics.registry],
    });
    for (const door of ['api', 'admin']) this.erasures.inc({ door }, 0);
  }

  erased(door: ErasureDoor): void {
    this.erasures.inc({ door });
  }
}
