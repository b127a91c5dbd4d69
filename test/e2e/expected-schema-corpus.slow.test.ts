/**
 * Real public Prisma histories (test/fixtures/corpus): after each is deployed, the expected schema preflight would
 * compute (the migrations replayed in a temporary database, its catalog fingerprinted) is the live one, so the drift
 * check after the release needs no replay; and Prisma's engine, replaying them, agrees that nothing drifted.
 */
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { PrismaMigrationEngine } from '../../lambdas/shared/adapters/prisma/migration-engine.js';
import { PrismaSchemaDriftDetector } from '../../lambdas/shared/adapters/prisma/schema-drift-detector.js';
import { createDatabase, dropDatabase } from '../helpers/database.js';

const CORPUS = resolve(import.meta.dirname, '../fixtures/corpus');
const created: string[] = [];

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe('expected schemas of real histories', () => {
  for (const history of ['civitai', 'trigger-dev', 'langfuse', 'supplement']) {
    it(`${history}: the live schema after the deploy is the expected one, and the engine agrees`, async () => {
      // Prepare: the history deployed, as the apply step does
      const db = await createDatabase('expected-corpus');
      created.push(db.name);
      const source = new DirectoryMigrationSource(resolve(CORPUS, history, 'migrations'));
      const bundle = await source.load();
      const names = bundle.migrations.map((m) => m.name);
      const outcome = await new PrismaMigrationEngine({ connectionString: db.url }).applyPending(bundle, {
        transactionMode: 'release',
      });
      expect(outcome.applied).toHaveLength(names.length);
      const detector = new PrismaSchemaDriftDetector({ connection: db.url, source });

      // Act: preflight's expected schemas (before the last five migrations, and after all), then the checks
      const expected = await detector.expectedSchemas([names.slice(0, -5), names]);
      const byFingerprint = await detector.diff(names, expected);
      const byEngine = await detector.diff(names);

      // Assess
      expect(expected).toHaveLength(2);
      expect(byFingerprint).toEqual({ inSync: true, script: '', by: 'fingerprint' });
      expect(byEngine.inSync).toBe(true);
      // The schema before the release is not the one after it.
      expect(await detector.diff(names.slice(0, -5), expected)).toMatchObject({ inSync: false });
    }, 240_000);
  }
});
