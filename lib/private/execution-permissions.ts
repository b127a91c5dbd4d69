/**
 * What the functions may read of the workflow's own executions: preflight lists the running ones (one
 * execution per target at a time) and reads how the earlier executions of its release ended (the retry guard),
 * prune-snapshots reads how the releases whose pre-migration snapshots it would delete ended. Both ARNs are
 * built from the state machine's fixed name: referencing the state machine resource would make a dependency
 * cycle through its definition, which references the functions.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Step } from '../../lambdas/shared/contract/contract.js';
import type { Allow } from './nag.js';

/** Grants preflight and prune-snapshots their read access to the executions of `stateMachineName`. */
export function grantExecutionReads(
  roles: Readonly<Record<Step, iam.Role>>,
  stateMachineName: string,
  allow: Allow,
): void {
  const stack = Stack.of(roles.preflight);
  allow(roles.preflight, {
    sid: 'ListRunningExecutionsOfThisWorkflow',
    actions: ['states:ListExecutions'],
    resources: [
      stack.formatArn({
        service: 'states',
        resource: 'stateMachine',
        resourceName: stateMachineName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
  });
  // DescribeExecution with includedData METADATA_ONLY: the status, without the input, output, error and cause,
  // which the state machine's key encrypts (reading them would need kms:Decrypt, which these roles do not have).
  const executions = stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${stateMachineName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  allow(
    roles['prune-snapshots'],
    {
      sid: 'ReadHowReleasesOfThisWorkflowEnded',
      actions: ['states:DescribeExecution'],
      resources: [executions],
    },
    `Executions of this workflow only (execution:${stateMachineName}:<execution name>): the snapshots name the ` +
      'executions that took them, known only at run time; a pre-migration snapshot of a release that is still ' +
      'running, or failed and is not resolved, is never deleted.',
  );
  allow(
    roles.preflight,
    {
      sid: 'ReadHowEarlierRunsOfTheReleaseEnded',
      actions: ['states:DescribeExecution'],
      resources: [executions],
    },
    `Executions of this workflow only (execution:${stateMachineName}:<execution name>): the pre-migration ` +
      'snapshots tagged with the release name the earlier executions of it, known only at run time; a release ' +
      'whose latest execution did not succeed is not run again without the input saying so (rerun).',
  );
}

/**
 * What a starter of a state machine encrypted with the orchestrator's customer managed key needs on that key:
 * Step Functions encrypts the execution input with the starter's access to it (`kms:GenerateDataKey`), and
 * decrypts the output for DescribeExecution (`kms:Decrypt`, when `decrypt`). Only for that state machine: the
 * key's encryption context names its ARN.
 */
export function workflowDataKeyStatement(
  sid: string,
  key: kms.IKey,
  stateMachineArn: string,
  { decrypt }: { readonly decrypt: boolean },
): iam.PolicyStatementProps {
  return {
    sid,
    actions: decrypt ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:GenerateDataKey'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': stateMachineArn } },
  };
}
