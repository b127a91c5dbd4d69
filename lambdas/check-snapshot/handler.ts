import { awsBase } from '../shared/runtime/aws/base.js';
import { rdsCapability } from '../shared/runtime/aws/rds.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { runCheckSnapshot } from './run.js';

/** An RDS-only step: its bundle carries no `pg`, SQL parser or Prisma engine. */
export const handler = stepHandler('check-snapshot', async (event) => {
  const base = awsBase();
  return await runCheckSnapshot(event, { ...base, ...rdsCapability(base) });
});
