/**
 * The middy middleware every step handler uses: one structured log line when the step starts and ends,
 * and on failure the error's name, message and details (never a secret: messages are written not to hold
 * any; never a table row: values PostgreSQL quotes are redacted), then the error is rethrown so Step Functions
 * routes on its name.
 */
import type middy from '@middy/core';
import { OrchestratorError } from './errors.js';
import { redactError } from './redaction.js';

export interface StepLogOptions {
  readonly step: string;
  readonly log?: (line: Record<string, unknown>) => void;
}

const defaultLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

export function stepLogging(options: StepLogOptions): middy.MiddlewareObj<unknown, unknown> {
  const log = options.log ?? defaultLog;
  let started = 0;
  return {
    before: () => {
      started = Date.now();
      log({ level: 'INFO', step: options.step, message: 'step started' });
    },
    after: () => {
      log({ level: 'INFO', step: options.step, message: 'step succeeded', durationMs: Date.now() - started });
    },
    onError: (request) => {
      // The one place an error leaves the step (its log line, Lambda's errorMessage, the execution history):
      // row values PostgreSQL quoted in it are redacted here.
      const error = redactError(request.error);
      log({
        level: 'ERROR',
        step: options.step,
        message: 'step failed',
        durationMs: Date.now() - started,
        errorName: error?.name,
        errorMessage: error?.message,
        details: error instanceof OrchestratorError ? error.details : undefined,
      });
      // Leave request.error in place: middy rethrows it and Lambda reports its name as errorType.
    },
  };
}
