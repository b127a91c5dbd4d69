/**
 * cdk-nag AwsSolutions acknowledgements, each on the construct it concerns, with its reason: wildcards that
 * AWS gives no resource-level permission for, names read at run time, or this stack's own resources.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';

const XRAY_REASON =
  'xray:PutTraceSegments/PutTelemetryRecords (and GetSamplingRules/GetSamplingTargets) have no resource-level permission.';

/** Adds a statement to a role; each wildcard resource is acknowledged for cdk-nag with `reason`. */
export type Allow = (role: iam.Role, statement: iam.PolicyStatementProps, reason?: string) => void;

/**
 * A resource as cdk-nag names it in a finding id (`Resource::<...>`): the resolved value with `Ref` as
 * `<Id>`, `Fn::GetAtt` as `<Id.Attr>`, and `Fn::Join` concatenated (cdk-nag's own flattening).
 */
export function flattenForNag(stack: Stack, value: unknown): string {
  const visit = (node: unknown): string => {
    if (node === undefined) return '';
    if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
    if (node && typeof node === 'object') {
      const token = node as Record<string, unknown>;
      const join = token['Fn::Join'];
      if (Array.isArray(join)) return (join[1] as unknown[]).map(visit).join(join[0] as string);
      if ('Fn::Sub' in token) return visit(token['Fn::Sub']);
      const getAtt = token['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${visit(getAtt[0])}.${visit(getAtt[1])}>`;
      if ('Fn::ImportValue' in token) return visit(token['Fn::ImportValue']);
      if ('Ref' in token) return `<${visit(token.Ref)}>`;
    }
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}

/** The reasons of the wildcard resources of each role, acknowledged on its default policy at the end. */
export class WildcardAcknowledgements {
  private readonly byRole = new Map<iam.Role, Map<string, Set<string>>>();

  /** Adds `statement` to `role`; each wildcard resource is recorded with `reason`, which it then needs. */
  readonly allow: Allow = (role, statement, reason) => {
    role.addToPolicy(new iam.PolicyStatement(statement));
    for (const resource of statement.resources ?? []) {
      if (!flattenForNag(Stack.of(role), resource).includes('*')) continue;
      if (!reason) {
        throw new Error(
          `MigrationOrchestrator: internal error, wildcard resource ${resource} without a reason.`,
        );
      }
      this.record(role, resource, reason);
    }
  };

  record(role: iam.Role, resource: string, reason: string): void {
    const id = flattenForNag(Stack.of(role), resource);
    let reasons = this.byRole.get(role);
    if (!reasons) {
      reasons = new Map();
      this.byRole.set(role, reasons);
    }
    const set = reasons.get(id) ?? new Set<string>();
    set.add(reason);
    reasons.set(id, set);
  }

  acknowledge(): void {
    for (const [role, reasons] of this.byRole) {
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (!policy) continue;
      for (const [resource, why] of reasons) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${resource}]`,
          reason: [...why].join(' '),
        });
      }
    }
  }
}

/** What the acknowledgements are put on. */
export interface AcknowledgedResources {
  readonly functions: Readonly<Record<Step, lambda.Function>>;
  readonly roles: Readonly<Record<Step, iam.Role>>;
  readonly stateMachine: sfn.StateMachine;
  /** The wildcards recorded while granting; acknowledged here, with X-Ray's. */
  readonly wildcards: WildcardAcknowledgements;
  /** The backup schedule's dead-letter queue, when there is a schedule. */
  readonly deadLetterQueue?: sqs.Queue;
}

/** Acknowledges the findings that are by design, once everything is created. */
export function acknowledgeFindings({
  functions,
  roles,
  stateMachine,
  wildcards,
  deadLetterQueue,
}: AcknowledgedResources): void {
  const stack = Stack.of(stateMachine);
  for (const step of Steps) {
    // Tracing.ACTIVE adds this statement to every function's role.
    wildcards.record(roles[step], '*', XRAY_REASON);
    Validations.of(functions[step]).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the bundles are built and tested for (esbuild target node22); moving to a ' +
        'newer runtime is a deliberate, tested upgrade.',
    });
  }
  wildcards.acknowledge();

  // The state machine's role: invoke of its own functions (CDK's LambdaInvoke grant adds the `:*`
  // version qualifier), vended logs delivery and X-Ray, which have no resource-level permission.
  const machinePolicy = stateMachine.role.node.tryFindChild('DefaultPolicy');
  if (machinePolicy) {
    for (const step of Steps) {
      const logicalId = stack.getLogicalId(functions[step].node.defaultChild as lambda.CfnFunction);
      Validations.of(machinePolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: `lambda:InvokeFunction on the versions and aliases of this stack's own ${step} function (CDK's LambdaInvoke grant).`,
      });
    }
    Validations.of(machinePolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'logs:CreateLogDelivery/GetLogDelivery/UpdateLogDelivery/DeleteLogDelivery/ListLogDeliveries/' +
        'PutResourcePolicy/DescribeResourcePolicies/DescribeLogGroups (vended logs delivery of Step Functions) ' +
        `and ${XRAY_REASON}`,
    });
  }

  if (deadLetterQueue) {
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "It is itself a dead-letter queue: EventBridge Scheduler's DeadLetterConfig of the backup schedule, where a " +
        'backup start that failed every retry is kept 14 days; nothing consumes it, so it needs no queue of its own.',
    });
  }
}
