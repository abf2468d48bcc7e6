import { Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Principal } from '../common/principal';
import { PrismaService } from '../persistence/prisma.service';
import type { Transaction } from '../persistence/transaction';

/** A session is touched (its idle clock reset) at most this often, so reads do not write on every request. */
const TOUCH_EVERY_S = 60;

/** Operators' sign-in sessions (`admin_sessions`), keyed by a SHA-256 of the session id; the clock is the database's. */
@Injectable()
export class SessionRepository {
  readonly pool: Pool;

  constructor(prisma: PrismaService) {
    this.pool = prisma.pool;
  }

  async create(tx: Transaction, idHash: Buffer, principal: Principal, ttlS: number): Promise<void> {
    await tx.query(
      `INSERT INTO admin_sessions (id_hash, sub, name, email, roles, expires_at) VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 second')`,
      [idHash, principal.sub, principal.name, principal.email, principal.roles, ttlS],
    );
  }

  /** The live session's operator (not past its absolute end, nor idle longer than idleS), touched now and then. */
  async find(idHash: Buffer, idleS: number): Promise<Principal | null> {
    const { rows } = await this.pool.query(
      `UPDATE admin_sessions SET last_seen_at = now()
       WHERE id_hash = $1 AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 second'
         AND last_seen_at < now() - $3 * interval '1 second'
       RETURNING sub, name, email, roles`,
      [idHash, idleS, TOUCH_EVERY_S],
    );
    const row =
      rows[0] ??
      (
        await this.pool.query(
          `SELECT sub, name, email, roles FROM admin_sessions
           WHERE id_hash = $1 AND expires_at > now() AND last_seen_at > now() - $2 * interval '1 second'`,
          [idHash, idleS],
        )
      ).rows[0];
    return row === undefined ? null : { sub: row.sub, name: row.name, email: row.email, via: 'oidc', roles: row.roles };
  }

  /** Removes the session; whether it existed. */
  async delete(tx: Transaction, idHash: Buffer): Promise<boolean> {
    return ((await tx.query('DELETE FROM admin_sessions WHERE id_hash = $1', [idHash])).rowCount ?? 0) > 0;
  }

  /** Sessions past their absolute end or idle too long are deleted (at each sign-in). */
  async deleteStale(tx: Transaction, idleS: number): Promise<void> {
    await tx.query(`DELETE FROM admin_sessions WHERE expires_at <= now() OR last_seen_at <= now() - $1 * interval '1 second'`, [idleS]);
  }
}
