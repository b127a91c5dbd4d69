import { stepHandler } from '../shared/handler-factory.js';
import { systemClock } from '../shared/ports.js';
import { checkSnapshot } from './check-snapshot.js';

export const handler = stepHandler('check-snapshot', (event, runtime) =>
  checkSnapshot(event, { gateway: runtime.gateway(), settings: runtime.settings, clock: systemClock }),
);
