import { Get } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiResponse } from '@nestjs/swagger';
import { AdminRoutes } from '../common/api-docs';
import { ApiDateTime } from '../common/api-date-time';
import { ReconcileRepository } from './reconcile.repository';

/** Totals over all replicas since the database was created. */
export class ReconciledNotificationsView {
  /** Distinct FAILED notification ids listed */
  seen: number;
  /** Notifications taken into the inbox (whatever their inbox outcome) */
  applied: number;
  /** Listings of a notification taken in before */
  duplicate: number;
  /** Retry calls Capa accepted */
  retried: number;
  /** Retry calls Capa answered 409 or 429 */
  retryRefused: number;
}

/** `GET /admin/reconciliation` answer. */
export class ReconciliationView {
  @ApiDateTime({ nullable: true }) lastRunAt: string | null;
  /** Why the latest run (of any replica) ended early; null when it succeeded */
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  notifications: ReconciledNotificationsView;
  /** Details calls made by the KYC poll fallback */
  polled: number;
}

/** Operators: how reading Capa's notifications back goes (`GET /admin/reconciliation`). */
@AdminRoutes()
export class ReconcileAdminController {
  constructor(private readonly reconcile: ReconcileRepository) {}

  @Get('reconciliation')
  @ApiOperation({ summary: "Reading Capa's FAILED notifications back and the KYC poll fallback: the latest run and the totals" })
  @ApiResponse({ status: 200, type: ReconciliationView })
  async reconciliation(): Promise<ReconciliationView> {
    const { lastRunAt, lastError, seen, applied, duplicate, retried, retryRefused, polled } = await this.reconcile.totals();
    return { lastRunAt: lastRunAt?.toISOString() ?? null, lastError, notifications: { seen, applied, duplicate, retried, retryRefused }, polled };
  }
}
