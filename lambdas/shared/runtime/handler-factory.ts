/**
 * Builds a function's middy handler: Powertools' tracer, logger and metrics middlewares, then the logging and
 * redaction middleware (innermost, so that an error is redacted before any other middleware sees it), around the
 * function's run. A step's handler composes only the runtime capabilities its step uses (`runtime/aws/*`).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Step } from '../contract/contract.js';
import { MetricDimensions } from '../contract/metrics.js';
import { correlationOf } from './correlation.js';
import { targetIdentifierOf } from './env.js';
import { stepLogging } from './middleware.js';
import { logger, metrics, tracer } from './observability.js';
import { type StepMetrics, stateMachineNameOf } from './step-metrics.js';

export interface FunctionHandlerOptions<T> {
  /** The keys on every log line of an invocation, besides `step`. @default none */
  readonly correlation?: (event: unknown, context: Context | undefined) => Record<string, string>;
  /** What a successful run measured (`step-metrics.ts`), published by the metrics middleware. @default none */
  readonly metrics?: StepMetrics<T>;
}

/** The handler of the function `name` (a step, or `report`), `run` wrapped in the middlewares. */
export function functionHandler<T>(
  name: string,
  run: (event: unknown, context: Context) => Promise<T>,
  options: FunctionHandlerOptions<T> = {},
) {
  const measure = options.metrics;
  return (
    middy<unknown, T>()
      // The handler's subsegment, its time and error (redacted): no response in the trace, no event in the log.
      .use(captureLambdaHandler(tracer, { captureResponse: false }))
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(logMetrics(metrics))
      .use(
        stepLogging({
          step: name,
          logger,
          ...(options.correlation ? { correlation: options.correlation } : {}),
        }),
      )
      .handler(async (event: unknown, context: Context) => {
        const result = await run(event, context);
        if (measure) record(measure(result, event), event);
        return result;
      })
  );
}

/** Adds a run's metrics under its state machine's name (no name, no metric: the alarms read them by it). */
function record(measured: ReturnType<StepMetrics<unknown>>, event: unknown): void {
  const stateMachine = stateMachineNameOf(event);
  if (measured.length === 0 || stateMachine === undefined) return;
  metrics.addDimension(MetricDimensions.stateMachine, stateMachine);
  for (const metric of measured) metrics.addMetric(metric.name, metric.unit, metric.value);
}

/** A workflow step's handler: its log lines carry the Task state, execution, release, target and request id. */
export function stepHandler<T>(
  step: Step,
  run: (event: unknown, context: Context) => Promise<T>,
  options: Pick<FunctionHandlerOptions<T>, 'metrics'> = {},
) {
  return functionHandler(step, run, {
    ...options,
    correlation: (event, context) => correlationOf(step, event, context?.awsRequestId, targetIdentifierOf()),
  });
}
