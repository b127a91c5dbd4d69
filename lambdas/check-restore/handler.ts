import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { checkRestore } from './check-restore.js';

export const handler = stepHandler('check-restore', async (event, runtime) =>
  checkRestore(event, { gateway: await runtime.gateway(), settings: runtime.settings, clock: systemClock }),
);
