/**
 * Builds a step's middy handler: the logging middleware around a function of the event and the AWS runtime.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsRuntime, awsRuntime } from './aws-runtime.js';
import type { Step } from './contract.js';
import { stepLogging } from './middleware.js';

export function stepHandler<T>(
  step: Step,
  run: (event: unknown, runtime: AwsRuntime, context: Context) => Promise<T>,
) {
  return middy<unknown, T>()
    .use(stepLogging({ step }))
    .handler(async (event: unknown, context: Context) => await run(event, awsRuntime(), context));
}
