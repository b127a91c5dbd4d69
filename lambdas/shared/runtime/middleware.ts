/**
 * The middy middleware every step handler uses: one structured log line when the step starts and ends,
 * and on failure the error's name, message and details (never a secret: messages are written not to hold
 * any; never a table row: values PostgreSQL quotes are redacted), then the error is rethrown so Step Functions
 * routes on its name.
 */
import type middy from '@middy/core';
import { OrchestratorError } from '../contract/errors.js';
import { redactError } from '../domain/redaction.js';

export interface StepLogOptions {
  readonly step: string;
  readonly log?: (line: Record<string, unknown>) => void;
}

const defaultLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/**
 * The keys that tie a log line to its execution: the execution's name, the release, the Lambda request id.
 * Read from the state document as Step Functions passes it; absent keys are left out.
 */
export function correlationOf(event: unknown, requestId: string | undefined): Record<string, string> {
  const state = (event ?? {}) as { execution?: { name?: unknown }; input?: { release?: unknown } };
  const keys: Record<string, string> = {};
  if (typeof state.execution?.name === 'string') keys.execution = state.execution.name;
  if (typeof state.input?.release === 'string') keys.release = state.input.release;
  if (typeof requestId === 'string' && requestId !== '') keys.requestId = requestId;
  return keys;
}

export function stepLogging(options: StepLogOptions): middy.MiddlewareObj<unknown, unknown> {
  const log = options.log ?? defaultLog;
  let started = 0;
  let correlation: Record<string, string> = {};
  return {
    before: (request) => {
      started = Date.now();
      correlation = correlationOf(
        request.event,
        (request.context as { awsRequestId?: string } | undefined)?.awsRequestId,
      );
      log({ level: 'INFO', step: options.step, ...correlation, message: 'step started' });
    },
    after: () => {
      log({
        level: 'INFO',
        step: options.step,
        ...correlation,
        message: 'step succeeded',
        durationMs: Date.now() - started,
      });
    },
    onError: (request) => {
      // The one place an error leaves the step (its log line, Lambda's errorMessage, the execution history):
      // row values PostgreSQL quoted in it are redacted here.
      const error = redactError(request.error);
      log({
        level: 'ERROR',
        step: options.step,
        ...correlation,
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
