import { awsBase } from '../shared/runtime/aws/base.js';
import { rdsCapability } from '../shared/runtime/aws/rds.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { runSwap } from './run.js';

/** An RDS-only step: its bundle carries no `pg`, SQL parser or Prisma engine. */
export const handler = stepHandler('swap', async (event) => {
  const base = awsBase();
  return await runSwap(event, { ...base, ...rdsCapability(base) });
});
