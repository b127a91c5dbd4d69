import { awsBase } from '../shared/runtime/aws/base.js';
import { rdsCapability } from '../shared/runtime/aws/rds.js';
import { historyCapability } from '../shared/runtime/aws/sfn.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { runPruneSnapshots } from './run.js';

/** An RDS-only step (plus Step Functions' DescribeExecution): no `pg`, SQL parser or Prisma engine. */
export const handler = stepHandler('prune-snapshots', async (event) => {
  const base = awsBase();
  return await runPruneSnapshots(event, { ...base, ...rdsCapability(base), ...historyCapability() });
});
