import { EmfMetricsPublisher } from '../shared/adapters/aws/emf-metrics-publisher.js';
import { S3ReportStore } from '../shared/adapters/aws/s3-report-store.js';
import { SfnExecutionReader } from '../shared/adapters/aws/sfn-execution-reader.js';
import { SnsNotifier } from '../shared/adapters/aws/sns-notifier.js';
import { systemClock } from '../shared/contract/ports.js';
import { reportCorrelationOf } from '../shared/runtime/correlation.js';
import { readReportEnv } from '../shared/runtime/env.js';
import { functionHandler } from '../shared/runtime/handler-factory.js';
import { type ReportExecutionDeps, reportExecution } from './report-execution.js';

/**
 * Invoked by the EventBridge rule on the workflow's execution status changes (not a workflow step): writes the
 * execution's report and publishes the notification. Step Functions, S3 and SNS only: no `pg`, no schema library.
 * The environment is read, and the clients built, at the first invocation (then kept for the warm ones).
 */
let deps: ReportExecutionDeps | undefined;

function dependencies(): ReportExecutionDeps {
  if (!deps) {
    const env = readReportEnv();
    deps = {
      reader: new SfnExecutionReader(),
      store: new S3ReportStore({ bucket: env.REPORT_BUCKET, keyArn: env.REPORT_KEY_ARN }),
      notifier: new SnsNotifier(env.TOPIC_ARN),
      metrics: new EmfMetricsPublisher(),
      clock: systemClock,
    };
  }
  return deps;
}

export const handler = functionHandler(
  'report',
  async (event) => {
    const { key, location } = await reportExecution(event, dependencies());
    return { key, location };
  },
  { correlation: (event, context) => reportCorrelationOf(event, context?.awsRequestId) },
);
