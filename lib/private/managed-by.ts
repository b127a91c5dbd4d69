/**
 * The `managed-by` tag: every resource the workflow creates carries it, with the stack name as value. The
 * functions put it on (their environment's MANAGED_BY) and the IAM conditions require it, so both read it
 * from here.
 */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { TagKeys } from '../../lambdas/shared/contract/contract.js';

/** The tag every resource the workflow creates carries, with the stack name as value. */
export const MANAGED_BY_TAG = TagKeys.managedBy;

/** The value of the `managed-by` tag on what the workflow of `scope` creates: its stack's name. */
export function managedByValue(scope: IConstruct): string {
  return Stack.of(scope).stackName;
}
