import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { NotFoundError } from '../common/api-error';
import { retryAfterSeconds } from '../signups/signup-answer';
import { SignupsService } from '../signups/signups.service';
import { type SignupMapping, toMapping } from '../signups/signup.types';
import { type ErasureDoor, ErasureMetrics } from './erasure-metrics';
import { SignupPendingError } from './erasure.errors';
import { ErasureRepository } from './erasure.repository';

/** Random bytes of each erased row's fingerprint salt. */
const SALT_BYTES = 16;

/**
 * Personal data erasure (GDPR art. 17), the same for both doors: identifier and alias removed from everything stored,
 * externalUserId, userId, status and the rest kept (the link to Capa must survive: FATF rec. 11, five years).
 */
@Injectable()
export class ErasureService {
  constructor(
    private readonly repository: ErasureRepository,
    private readonly signups: SignupsService,
    private readonly metrics: ErasureMetrics,
  ) {}

  /** The erased mapping; a repeat answers it unchanged (same erasedAt, no second event). */
  async erase(externalUserId: string, door: ErasureDoor): Promise<SignupMapping> {
    const result = await this.repository.erase(externalUserId, randomBytes(SALT_BYTES).toString('hex'));
    switch (result.kind) {
      case 'not-found':
        throw new NotFoundError(`No signup for externalUserId ${JSON.stringify(externalUserId)}`);
      case 'pending':
        throw new SignupPendingError(retryAfterSeconds(result.row, result.row.observedAt ?? new Date()));
      case 'erased':
        // Every replica drops the mapping when the trigger's notification arrives; this one answers at once.
        this.signups.cache.forget(externalUserId);
        this.metrics.erased(door);
        return toMapping(result.row);
      case 'already-erased':
        return toMapping(result.row);
    }
  }
}
