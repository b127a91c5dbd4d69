/**
 * Step Functions on AWS: the execution guard (the other running executions of this state machine,
 * ListExecutions) and the execution history (how earlier executions ended, DescribeExecution).
 */
import { SfnExecutionGuard } from '../../adapters/aws/sfn-execution-guard.js';
import { SfnExecutionHistory } from '../../adapters/aws/sfn-execution-history.js';
import type { GuardCapability, HistoryCapability } from '../capabilities.js';

export function guardCapability(): GuardCapability {
  return { executionGuard: async () => new SfnExecutionGuard() };
}

export function historyCapability(): HistoryCapability {
  return { executionHistory: async () => new SfnExecutionHistory() };
}
