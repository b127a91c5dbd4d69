import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { createSnapshot } from './create-snapshot.js';

export const handler = stepHandler('create-snapshot', async (event, runtime) =>
  createSnapshot(event, { gateway: await runtime.gateway(), settings: runtime.settings, clock: systemClock }),
);
