import { awsBase } from '../shared/runtime/aws/base.js';
import { databaseCapability } from '../shared/runtime/aws/database.js';
import { engineCapability } from '../shared/runtime/aws/engine.js';
import { rdsCapability } from '../shared/runtime/aws/rds.js';
import { guardCapability, historyCapability } from '../shared/runtime/aws/sfn.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { runPreflight } from './run.js';

export const handler = stepHandler('preflight', async (event) => {
  const base = awsBase();
  const database = databaseCapability(base);
  return await runPreflight(event, {
    ...base,
    ...database,
    ...engineCapability(base, database),
    ...rdsCapability(base),
    ...guardCapability(),
    ...historyCapability(),
  });
});
