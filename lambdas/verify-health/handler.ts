import { awsBase } from '../shared/runtime/aws/base.js';
import { databaseCapability } from '../shared/runtime/aws/database.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { runVerifyHealth } from './run.js';

export const handler = stepHandler('verify-health', async (event) => {
  const base = awsBase();
  return await runVerifyHealth(event, { ...base, ...databaseCapability(base) });
});
