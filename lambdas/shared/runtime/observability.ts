/**
 * Powertools for AWS Lambda, once per container for every function: the logger (one JSON object per line, the
 * correlation keys on each), the metrics (Embedded Metric Format in the workflow's namespace, `contract/metrics.ts`)
 * and the tracer (X-Ray; it traces only inside Lambda, and not when POWERTOOLS_TRACE_ENABLED is false, so tests and
 * the local runner trace nothing). The handler factory (`handler-factory.ts`) wires them around every function.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE } from '../contract/metrics.js';

/** The `service` of every log line and trace. */
export const SERVICE_NAME = 'prisma-migration-orchestrator';

/** The keys a log line starts with, in this order (the rest follow as Powertools writes them). */
export const LOG_KEY_ORDER = [
  'level',
  'message',
  'step',
  'state',
  'execution',
  'release',
  'target',
  'requestId',
  'durationMs',
  'errorName',
  'errorMessage',
  'details',
] as const;

export const logger = new Logger({ serviceName: SERVICE_NAME, logRecordOrder: [...LOG_KEY_ORDER] });

/**
 * Where the metrics' own messages go: the logger, as JSON lines with the correlation keys. Most steps write no
 * metric, and a failed apply step none either: Powertools' "No application metrics to publish" is not a warning
 * there, so it is logged at DEBUG; every other message (an invalid metric or dimension) stays a warning.
 */
const metricsLogger = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) =>
    message.startsWith('No application metrics to publish') ? logger.debug(message) : logger.warn(message),
  error: (message: string) => logger.error(message),
};

/**
 * The metrics of a step, published by the `logMetrics` middleware after each invocation. No default dimension:
 * Powertools would add `service` to every metric, and the alarms read the metrics by `StateMachineName` alone (and
 * `Outcome`), as the report function writes them.
 */
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
  logger: metricsLogger,
});
metrics.clearDefaultDimensions();

export const tracer = new Tracer({ serviceName: SERVICE_NAME });
