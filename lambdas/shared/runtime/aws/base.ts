/**
 * What every step has on AWS: the environment the construct set, read and validated once per container.
 */

import { systemClock } from '../../contract/ports.js';
import type { BaseCapability } from '../capabilities.js';
import { type LambdaEnv, readEnv, settingsFromEnv } from '../env.js';

export interface AwsBase extends BaseCapability {
  readonly env: LambdaEnv;
}

let cached: AwsBase | undefined;

export function awsBase(): AwsBase {
  if (!cached) {
    const env = readEnv();
    cached = { env, settings: settingsFromEnv(env), clock: systemClock };
  }
  return cached;
}
