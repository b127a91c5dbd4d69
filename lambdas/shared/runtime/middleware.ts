/**
 * The middy middleware every function uses, innermost: the correlation keys on every log line of the invocation
 * (Powertools logger), one line when the step starts and ends, and on failure the error's name, message and details
 * (never a secret: messages are written not to hold any; never a table row: values PostgreSQL quotes are redacted),
 * then the error is rethrown so Step Functions routes on its name.
 *
 * Innermost, so that its `onError` runs first: the error is redacted here, once, before the metrics, the logger's
 * and the tracer's middlewares (X-Ray records the error's message and stack) and Lambda's own error report see it.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { OrchestratorError } from '../contract/errors.js';
import { redactError } from '../domain/redaction.js';
import { logger as sharedLogger } from './observability.js';

export interface StepLogOptions {
  /** The step (or function) the lines are about: the `step` key. */
  readonly step: string;
  /** The keys every line of an invocation carries (`correlation.ts`). @default none but `step` */
  readonly correlation?: (event: unknown, context: Context | undefined) => Record<string, string>;
  /** @default the shared Powertools logger (`observability.ts`) */
  readonly logger?: Logger;
}

const STARTED = 'orchestrator.stepStartedAt';

export function stepLogging(options: StepLogOptions): middy.MiddlewareObj<unknown, unknown> {
  const logger = options.logger ?? sharedLogger;
  const keysOf = (request: middy.Request) => ({
    step: options.step,
    ...options.correlation?.(request.event, request.context as Context | undefined),
  });
  const durationMs = (request: middy.Request) =>
    Date.now() - ((request.internal as Record<string, number>)[STARTED] ?? Date.now());
  return {
    before: (request) => {
      (request.internal as Record<string, number>)[STARTED] = Date.now();
      logger.appendKeys(keysOf(request));
      logger.info('step started');
    },
    after: (request) => {
      logger.info('step succeeded', { durationMs: durationMs(request) });
      logger.removeKeys(Object.keys(keysOf(request)));
    },
    onError: (request) => {
      // The one place an error leaves the step (its log line, Lambda's errorMessage and stack trace, the execution
      // history, the X-Ray trace): row values PostgreSQL quoted in it are redacted here.
      const error = redactError(request.error);
      logger.error('step failed', {
        durationMs: durationMs(request),
        errorName: error?.name,
        errorMessage: error?.message,
        details: error instanceof OrchestratorError ? error.details : undefined,
      });
      logger.removeKeys(Object.keys(keysOf(request)));
      // Leave request.error in place: middy rethrows it and Lambda reports its name as errorType.
    },
  };
}
