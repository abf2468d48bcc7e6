import { Injectable } from '@nestjs/common';
import { shippedMigrationNames } from './migrator';
import { PrismaService } from './prisma.service';

/**
 * Whether the database's schema has every migration this build ships (readiness depends on it: with
 * MIGRATE_ON_BOOT=false and nobody running `prisma migrate deploy`, every signup would fail).
 */
@Injectable()
export class SchemaState {
  private shipped: Promise<string[]> | undefined;
  /** A schema, once current, stays current for this build: no need to ask again. */
  private current = false;

  constructor(private readonly prisma: PrismaService) {}

  /** The shipped migrations the database has not applied (empty when the schema is current). */
  async pendingMigrations(): Promise<string[]> {
    if (this.current) return [];
    this.shipped ??= shippedMigrationNames();
    const shipped = await this.shipped;
    const applied = new Set(await this.appliedMigrations());
    const pending = shipped.filter((name) => !applied.has(name));
    this.current = pending.length === 0;
    return pending;
  }

  private async appliedMigrations(): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<Array<{ name: string | null }>>`
      SELECT to_regclass('"_prisma_migrations"')::text AS name`;
    if (rows[0]?.name === null || rows[0]?.name === undefined) return [];
    const applied = await this.prisma.$queryRaw<Array<{ migration_name: string }>>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    return applied.map((row) => row.migration_name);
  }
}
