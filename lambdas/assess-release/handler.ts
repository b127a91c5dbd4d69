import { stepHandler } from '../shared/handler-factory.js';
import { assessRelease } from './assess-release.js';

export const handler = stepHandler('assess-release', async (event, runtime) =>
  assessRelease(event, { inspector: await runtime.releaseInspector() }),
);
