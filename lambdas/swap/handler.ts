import { stepHandler } from '../shared/handler-factory.js';
import { swap } from './swap.js';

export const handler = stepHandler('swap', (event, runtime) =>
  swap(event, { gateway: runtime.gateway(), settings: runtime.settings }),
);
