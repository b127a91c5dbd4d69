import { stepHandler } from '../shared/handler-factory.js';
import { analyzeRelease } from '../shared/release-analysis.js';
import { preflight } from './preflight.js';

export const handler = stepHandler('preflight', async (event, runtime) => {
  const engine = await runtime.engine();
  try {
    return await preflight(event, {
      source: runtime.migrationSource(),
      engine,
      settings: runtime.settings,
      databaseName: await runtime.databaseName(),
      analyzeRelease,
    });
  } finally {
    await engine.close();
  }
});
