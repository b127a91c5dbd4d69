import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { FakeMigrationEngine, stateWith, testSettings } from '../helpers/fakes.js';

const created: string[] = [];

afterAll(async () => {
  for (const dir of created) await rm(dir, { recursive: true, force: true });
});

describe('preflight with a migrations folder outside Prisma’s layout', () => {
  it("shows the source's warning about folder names in the plan", async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
    created.push(dir);
    await writeFile(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    for (const name of ['1_users', '2_orders', '10_invoices']) {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'migration.sql'), 'SELECT 1;');
    }

    // Act
    const plan = await preflight(stateWith(), {
      source: new DirectoryMigrationSource(dir),
      engine: new FakeMigrationEngine(),
      guard: { othersRunning: async () => [] },
      settings: testSettings,
      databaseName: 'orders',
      analyzeRelease: () => ({ nonTransactional: [], lockedTables: [], notes: [] }),
    });

    // Assess
    expect(plan.pending).toEqual(['10_invoices', '1_users', '2_orders']);
    expect(plan.warnings.join('\n')).toContain("do not follow Prisma's layout <14-digit timestamp>_<name>");
    expect(plan.warnings.join('\n')).toContain('10_invoices, 1_users, 2_orders');
  });
});
