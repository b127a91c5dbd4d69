/**
 * Builds a step's middy handler: the logging and redaction middleware around the step's run function. The
 * handler composes only the runtime capabilities its step uses (`runtime/aws/*`).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Step } from '../contract/contract.js';
import { stepLogging } from './middleware.js';

export function stepHandler<T>(step: Step, run: (event: unknown, context: Context) => Promise<T>) {
  return middy<unknown, T>()
    .use(stepLogging({ step }))
    .handler(async (event: unknown, context: Context) => await run(event, context));
}
