import { stepHandler } from '../shared/handler-factory.js';
import { preflight } from './preflight.js';

export const handler = stepHandler('preflight', async (event, runtime) => {
  const [engine, { analyzeRelease }] = await Promise.all([
    runtime.engine(),
    import('../shared/release-analysis.js'),
  ]);
  try {
    return await preflight(event, {
      source: runtime.migrationSource(),
      engine,
      guard: await runtime.executionGuard(),
      settings: runtime.settings,
      databaseName: await runtime.databaseName(),
      analyzeRelease,
      ...(runtime.env.CHECK_SCHEMA_DRIFT ? { drift: await runtime.driftDetector() } : {}),
    });
  } finally {
    await engine.close();
  }
});
