import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { checkSnapshot } from './check-snapshot.js';

export const handler = stepHandler('check-snapshot', async (event, runtime) =>
  checkSnapshot(event, { gateway: await runtime.gateway(), settings: runtime.settings, clock: systemClock }),
);
