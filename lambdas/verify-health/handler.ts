import { stepHandler } from '../shared/handler-factory.js';
import { verifyHealth } from './verify-health.js';

export const handler = stepHandler('verify-health', async (event, runtime) =>
  verifyHealth(event, { probe: await runtime.healthProbe(), drift: runtime.settings.drift }),
);
