import { awsBase } from '../shared/runtime/aws/base.js';
import { rdsCapability } from '../shared/runtime/aws/rds.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { restoreMetrics } from '../shared/runtime/step-metrics.js';
import { runRestoreSnapshot } from './run.js';

/** An RDS-only step: its bundle carries no `pg`, SQL parser or Prisma engine. */
export const handler = stepHandler(
  'restore-snapshot',
  async (event) => {
    const base = awsBase();
    return await runRestoreSnapshot(event, { ...base, ...rdsCapability(base) });
  },
  { metrics: restoreMetrics },
);
