import type { Logger } from '@nestjs/common';
import type { AppMetrics } from '../metrics/app-metrics';
import type { CreatedSettlement } from './signup-rows';

/**
 * A userId from Capa that could not be attached (the signup keeps another one, or another signup holds it) is counted
 * (`capa_user_id_conflicts_total`) and logged at error level; it is never lost: its attempt row keeps it.
 */
export function reportUnattachedUserId(settlement: CreatedSettlement, externalUserId: string, userId: string, metrics: AppMetrics, logger: Logger): void {
  const current = settlement.row;
  if (settlement.kind === 'already-created' && current !== null && current.userId !== userId) {
    metrics.userIdConflicts.inc({ kind: 'second-user-id' });
    logger.error(
      { externalUserId, keptUserId: current.userId, answeredUserId: userId },
      'Capa answered a second, different userId for a CREATED signup; the first one is kept, the second is in the attempt log',
    );
  } else if (settlement.kind === 'user-id-taken') {
    metrics.userIdConflicts.inc({ kind: 'user-id-taken' });
    logger.error(
      { externalUserId, answeredUserId: userId },
      'Capa answered a userId that another signup holds; the signup needs an operator, the userId is in the attempt log',
    );
  }
}
