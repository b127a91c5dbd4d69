/**
 * cdk-nag AwsSolutions acknowledgements, each on the construct it concerns, with its reason: wildcards that
 * AWS gives no resource-level permission for, names read at run time, or this stack's own resources.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
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

/** The X-Ray actions `Tracing.ACTIVE` adds to a function's role, on `*`. */
export const XRAY_ACTIONS: readonly string[] = [
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
];

/** The vended logs delivery actions Step Functions adds to its role, on `*`. */
export const LOG_DELIVERY_ACTIONS: readonly string[] = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/**
 * The wildcards of each role, acknowledged per statement: a statement with a wildcard resource gets a policy of
 * its own (named after its Sid), and its findings are acknowledged on that policy only, each with its reason.
 * A role's default policy keeps the statements without wildcard, and the `*` that CDK itself adds (X-Ray; the
 * state machine's logs delivery): that acknowledgement is guarded so that it covers only those actions.
 */
export class WildcardAcknowledgements {
  private readonly policies = new Map<iam.Role, iam.Policy[]>();

  /** Adds `statement` to `role`; one with a wildcard resource goes into a policy of its own, with `reason`. */
  readonly allow: Allow = (role, statement, reason) => {
    const stack = Stack.of(role);
    const wildcards = (statement.resources ?? [])
      .map((resource) => flattenForNag(stack, resource))
      .filter((resource) => resource.includes('*'));
    if (wildcards.length === 0) {
      role.addToPolicy(new iam.PolicyStatement(statement));
      return;
    }
    if (!reason || !statement.sid) {
      throw new Error(
        `MigrationOrchestrator: internal error, wildcard resource ${wildcards.join(', ')} without a ${reason ? 'Sid' : 'reason'}.`,
      );
    }
    const policy = new iam.Policy(role, statement.sid, {
      statements: [new iam.PolicyStatement(statement)],
    });
    policy.attachToRole(role);
    for (const resource of new Set(wildcards)) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    }
    this.policies.set(role, [...(this.policies.get(role) ?? []), policy]);
  };

  /**
   * Acknowledges `*` on the default policy of each role (X-Ray), guarded; and makes every function depend on
   * its role's own policies (Lambda checks the network interface actions when it creates a function in a VPC).
   */
  acknowledge(roles: readonly iam.Role[]): void {
    for (const role of roles) {
      const policy = role.node.tryFindChild('DefaultPolicy');
      if (policy instanceof iam.Policy) acknowledgeCdkWildcards(policy, XRAY_ACTIONS, XRAY_REASON);
    }
    const stack = [...this.policies.keys()][0];
    if (!stack) return;
    for (const fn of Stack.of(stack).node.findAll()) {
      if (!(fn instanceof lambda.Function) || !(fn.role instanceof iam.Role)) continue;
      for (const policy of this.policies.get(fn.role) ?? []) fn.node.addDependency(policy);
    }
  }
}

/**
 * Acknowledges `Resource::*` on a default policy for the actions CDK itself adds there on `*` (`actions`), and
 * fails the synthesis if any other action on `*` ever lands in it: that one must come through `allow`, in a
 * statement of its own with its own reason.
 */
export function acknowledgeCdkWildcards(
  policy: iam.Policy,
  actions: readonly string[],
  reason: string,
): void {
  Validations.of(policy).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason });
  const known = new Set(actions);
  policy.node.addValidation({
    validate: () => {
      const document = Stack.of(policy).resolve(policy.document.toJSON()) as
        | {
            Statement?: { Action?: string | string[]; Resource?: unknown }[];
          }
        | undefined;
      const errors: string[] = [];
      for (const statement of document?.Statement ?? []) {
        const resources = ([] as unknown[]).concat(statement.Resource ?? []);
        if (!resources.some((resource) => flattenForNag(Stack.of(policy), resource) === '*')) continue;
        for (const action of ([] as string[]).concat(statement.Action ?? [])) {
          if (known.has(action)) continue;
          errors.push(
            `${action} on * is in ${policy.node.path}, whose acknowledgement of Resource::* covers only what CDK ` +
              'adds there. Grant it through allow(), in a statement of its own with its reason.',
          );
        }
      }
      return errors;
    },
  });
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
    Validations.of(functions[step]).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the runtime the bundles are built and tested for (esbuild target node22); moving to a ' +
        'newer runtime is a deliberate, tested upgrade.',
    });
  }
  // Every function's role (the steps' and the report function's): Tracing.ACTIVE adds X-Ray on * to it.
  const functionRoles = stack.node
    .findAll()
    .filter((node): node is lambda.Function => node instanceof lambda.Function)
    .map((fn) => fn.role)
    .filter((role): role is iam.Role => role instanceof iam.Role);
  wildcards.acknowledge([...new Set([...Object.values(roles), ...functionRoles])]);

  // The state machine's role: invoke of its own functions (CDK's LambdaInvoke grant adds the `:*`
  // version qualifier), vended logs delivery and X-Ray, which have no resource-level permission.
  const machinePolicy = stateMachine.role.node.tryFindChild('DefaultPolicy');
  if (machinePolicy instanceof iam.Policy) {
    for (const step of Steps) {
      const logicalId = stack.getLogicalId(functions[step].node.defaultChild as lambda.CfnFunction);
      Validations.of(machinePolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: `lambda:InvokeFunction on the versions and aliases of this stack's own ${step} function (CDK's LambdaInvoke grant).`,
      });
    }
    acknowledgeCdkWildcards(
      machinePolicy,
      [...LOG_DELIVERY_ACTIONS, ...XRAY_ACTIONS],
      `${LOG_DELIVERY_ACTIONS.join('/')} (vended logs delivery of Step Functions) and ${XRAY_REASON}`,
    );
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
