import { describe, expect, it } from 'vitest';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { analyzeRelease } from '../../lambdas/shared/domain/release-analysis.js';
import {
  appliedRow,
  FakeMigrationEngine,
  FakeMigrationSource,
  migration,
  rejection,
  stateWith,
  testSettings,
} from '../helpers/fakes.js';

const init = migration('20250101000000_init');
const labels = migration('20250102000000_labels', 'CREATE TABLE "Label" ("id" SERIAL PRIMARY KEY);');
// Multi-byte text (é, an emoji outside the BMP) before the error, on earlier lines and on the error's line.
const typo = migration(
  '20250103000000_rename_tâche',
  '-- Renomme la tâche 📝\nALTER TABLE "Label" ADD COLUMN "note" TEXT;\n/* é */ ALTR TABLE "Label" RENAME TO "Étiquette";\n',
);

function deps(engine: FakeMigrationEngine, migrations = [init, labels, typo]) {
  return {
    source: new FakeMigrationSource(migrations),
    engine,
    guard: { othersRunning: async () => [] },
    settings: testSettings,
    databaseName: 'orders',
    analyzeRelease,
  };
}

describe('preflight with a script PostgreSQL cannot parse', () => {
  it('refuses the release, naming the script, its line and column and the parser message, and applies nothing', async () => {
    // Prepare
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(init)];
    // Act
    const error = await rejection(preflight(stateWith(), deps(engine)));
    // Assess
    expect(error.name).toBe(ErrorNames.MigrationsInvalid);
    expect(error.message).toContain(
      '20250103000000_rename_tâche/migration.sql line 3, column 9: syntax error at or near "ALTR"',
    );
    expect(error.message).toContain('/fake/migrations');
    expect(error.message).toContain('nothing was touched');
    expect(engine.applyCalls).toHaveLength(0);
  });

  it('refuses it in per-migration mode too, where the migrations before it would otherwise commit', async () => {
    const engine = new FakeMigrationEngine();
    const error = await rejection(
      preflight(stateWith({ input: { transactionMode: 'per-migration' } }), deps(engine)),
    );
    expect(error.name).toBe(ErrorNames.MigrationsInvalid);
    expect(error.message).toContain('20250103000000_rename_tâche/migration.sql line 3, column 9');
    expect(engine.applyCalls).toHaveLength(0);
  });

  it('does not refuse when the script that does not parse is already applied (it is not part of the release)', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(init), appliedRow(typo)];
    const plan = await preflight(stateWith(), deps(engine, [init, typo, labels]));
    expect(plan).toMatchObject({ pending: [labels.name], transactionMode: 'release', proceed: true });
  });
});

describe('preflight on which migrations are atomic', () => {
  it('counts a migration that adds an enum value a later migration uses as atomic (only the release transaction is impossible)', async () => {
    // Prepare
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(init)];
    const addValue = migration('20250301000000_add_role', `ALTER TYPE "Role" ADD VALUE 'EMAIL';\n`);
    const useValue = migration(
      '20250302000000_use_role',
      `UPDATE "User" SET "role" = 'EMAIL'::"Role" WHERE "id" = 1;\n`,
    );
    const concurrent = migration(
      '20250303000000_index',
      'CREATE INDEX CONCURRENTLY "u_idx" ON "User"("id");\n',
    );

    // Act
    const plan = await preflight(stateWith(), deps(engine, [init, addValue, useValue, concurrent]));

    // Assess
    expect(plan.transactionMode).toBe('per-migration');
    expect(plan.nonAtomic).toEqual([concurrent.name]);
  });
});
