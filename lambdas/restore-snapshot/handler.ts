import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { restoreSnapshot } from './restore-snapshot.js';

export const handler = stepHandler('restore-snapshot', async (event, runtime) =>
  restoreSnapshot(event, {
    gateway: await runtime.gateway(),
    settings: runtime.settings,
    clock: systemClock,
  }),
);
