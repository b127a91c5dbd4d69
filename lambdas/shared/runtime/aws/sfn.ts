/** The execution guard on AWS: the other running executions of this state machine (ListExecutions). */
import { SfnExecutionGuard } from '../../adapters/aws/sfn-execution-guard.js';
import type { GuardCapability } from '../capabilities.js';

export function guardCapability(): GuardCapability {
  return { executionGuard: async () => new SfnExecutionGuard() };
}
