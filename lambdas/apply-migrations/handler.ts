import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { applyMigrations } from './apply-migrations.js';

export const handler = stepHandler('apply-migrations', async (event, runtime) => {
  const engine = await runtime.engine();
  try {
    return await applyMigrations(event, { source: runtime.migrationSource(), engine, clock: systemClock });
  } finally {
    await engine.close();
  }
});
