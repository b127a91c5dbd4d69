import { stepHandler } from '../shared/handler-factory.js';
import { swap } from './swap.js';

export const handler = stepHandler('swap', async (event, runtime) =>
  swap(event, { gateway: await runtime.gateway(), settings: runtime.settings }),
);
