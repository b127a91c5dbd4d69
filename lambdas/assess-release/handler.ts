import { awsBase } from '../shared/runtime/aws/base.js';
import { databaseCapability } from '../shared/runtime/aws/database.js';
import { stepHandler } from '../shared/runtime/handler-factory.js';
import { applyMetrics } from '../shared/runtime/step-metrics.js';
import { runAssessRelease } from './run.js';

export const handler = stepHandler(
  'assess-release',
  async (event) => runAssessRelease(event, databaseCapability(awsBase())),
  { metrics: applyMetrics },
);
