/**
 * The migrate entry (lib/private/migrate-entry.ts): the state machine that only starts migrations of the workflow,
 * so that IAM can grant "migrate" without "back up or restore". Its definition (refusal of another mode, the mode
 * forced, StartExecution.sync:2 under the entry execution's name), its role's exact statements, the grant helper,
 * and a run of the synthesized definition with aws-local-stepfunctions, the Task stubbed.
 */
import { createRequire } from 'node:module';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AslDefinition, definitionFromTemplate, ENTRY_METADATA_KEY } from '../../lib/asl.js';
import { MigrateEntryStates, MODE_NOT_MIGRATE_ERROR } from '../../lib/orchestrator.js';
import { flat, orchestrate, state, synthesize } from './support.js';

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const S = MigrateEntryStates;
const WORKFLOW_NAME = 'MigrationOrchestrator-0E6B3CF6';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

let json: Record<string, unknown>;
let resources: Record<string, Resource>;
let entryId: string;
let workflowId: string;
let definition: AslDefinition;

/** Statements as `Sid | actions | resources | condition`: lists sorted, tokens flattened, the condition as JSON. */
function rowsOf(statements: Statement[]): string[] {
  return statements.map((s) => row(s.Sid ?? '-', s.Action, s.Resource, s.Condition)).sort();
}

function row(sid: string, actions: unknown, resources: unknown, condition?: unknown): string {
  const list = (value: unknown) => ([] as unknown[]).concat(value ?? []);
  return [
    sid,
    list(actions).map(String).sort().join(','),
    list(resources).map(flat).sort().join(','),
    condition === undefined ? '-' : JSON.stringify(condition),
  ].join(' | ');
}

/** `arn:<partition>:<service>:<region>:<account>:<rest>` as CDK's formatArn synthesizes it. */
function arnJoin(service: string, rest: string): unknown {
  return {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        `:${service}:`,
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        rest,
      ],
    ],
  };
}

/** Every statement of the policies attached to the role `roleId`. */
function statementsOfRole(all: Record<string, Resource>, roleId: string): Statement[] {
  return Object.values(all)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => (r.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

beforeAll(() => {
  // Prepare
  ({ json } = synthesize());
  resources = json.Resources as Record<string, Resource>;
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  entryId = machines.find(([, r]) => r.Metadata?.[ENTRY_METADATA_KEY] === 'migrate')?.[0] ?? '';
  workflowId = machines.find(([, r]) => r.Metadata?.[ENTRY_METADATA_KEY] === undefined)?.[0] ?? '';
  // Act
  definition = definitionFromTemplate(json, { stateMachineLogicalId: entryId }).definition;
});

describe('the migrate entry state machine', () => {
  it('is a second Standard state machine, named after the workflow, logged, traced and encrypted like it', () => {
    // Assess
    expect(entryId).toMatch(/^OrchestratorMigrateEntryStateMachine/);
    expect(workflowId).toMatch(/^OrchestratorStateMachine/);
    const entry = resources[entryId] as Resource;
    expect(entry.Properties).toMatchObject({
      StateMachineName: `${WORKFLOW_NAME}-migrate`,
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      EncryptionConfiguration: {
        Type: 'CUSTOMER_MANAGED_KMS_KEY',
        KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorKey/), 'Arn'] },
      },
    });
    const logGroup = (
      entry.Properties.LoggingConfiguration as {
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [string, string] } } }[];
      }
    ).Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] as string;
    expect(resources[logGroup]?.Properties).toMatchObject({
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^OrchestratorKey/), 'Arn'] },
    });
    // No timeout of its own: an entry timing out before the workflow would stop the migration.
    expect(definition.TimeoutSeconds).toBeUndefined();
  });

  it('is valid Amazon States Language (asl-validator)', () => {
    // Assess
    const result = aslValidator(definition, { checkPaths: true, checkArn: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('refuses an input naming another mode, with an error that names the field and the fix', () => {
    // Assess
    expect(definition.StartAt).toBe(S.checkMode);
    const check = state(definition, S.checkMode);
    expect(check.Type).toBe('Choice');
    expect(check.Choices).toEqual([
      {
        And: [
          { Variable: '$.mode', IsPresent: true },
          { Not: { Variable: '$.mode', StringEquals: 'migrate' } },
        ],
        Next: S.refuseMode,
      },
    ]);
    expect(check.Default).toBe(S.forceMode);
    const refuse = state(definition, S.refuseMode);
    expect(refuse.Type).toBe('Fail');
    expect(refuse.Error).toBe(MODE_NOT_MIGRATE_ERROR);
    expect(refuse.Cause).toContain('input field mode');
    expect(refuse.Cause).toContain('Remove mode from the input, or set it to "migrate"');
    expect(refuse.Cause).toContain(WORKFLOW_NAME);
  });

  it('sets mode "migrate", then starts the workflow with StartExecution.sync:2 under its own name', () => {
    // Assess
    const force = state(definition, S.forceMode);
    expect(force).toMatchObject({
      Type: 'Pass',
      Result: 'migrate',
      ResultPath: '$.mode',
      Next: S.startMigration,
    });
    const start = state(definition, S.startMigration);
    expect(start.Type).toBe('Task');
    expect(start.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
    expect(start.Parameters).toEqual({
      StateMachineArn: `arn:aws:cloudformation:us-east-1:123456789012:ref/${workflowId}`,
      'Name.$': '$$.Execution.Name',
      'Input.$': '$',
    });
    expect(start.OutputPath).toBe('$.Output');
    expect(start.End).toBe(true);
    // No Retry (a retried start of a name already used fails) and no Catch (the workflow's failure is the entry's).
    expect(start.Retry).toBeUndefined();
    expect(start.Catch).toBeUndefined();
  });

  it('gives its role exactly what StartExecution.sync:2 on the workflow needs', () => {
    // Prepare
    const stateMachine = resources[entryId] as Resource;
    const roleId = (stateMachine.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    // Act
    const rows = rowsOf(statementsOfRole(resources, roleId));
    // Assess
    const key = { 'Fn::GetAtt': ['OrchestratorKey509A9E62', 'Arn'] };
    const encryptionContext = (arn: unknown) => ({
      StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': arn },
    });
    const entryArn = arnJoin('states', `:stateMachine:${WORKFLOW_NAME}-migrate`);
    expect(rows).toEqual(
      [
        row('StartTheWorkflow', 'states:StartExecution', { Ref: workflowId }),
        row(
          'FollowTheWorkflowExecutions',
          ['states:DescribeExecution', 'states:StopExecution'],
          arnJoin('states', `:execution:${WORKFLOW_NAME}:*`),
        ),
        row(
          'HearWhenTheWorkflowExecutionEnds',
          ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          arnJoin('events', ':rule/StepFunctionsGetEventsForStepFunctionsExecutionRule'),
        ),
        row(
          'EncryptTheDataOfTheWorkflow',
          ['kms:GenerateDataKey', 'kms:Decrypt'],
          key,
          encryptionContext({ Ref: workflowId }),
        ),
        // CDK: the entry's own data and logs, encrypted with the key.
        row('-', ['kms:Decrypt', 'kms:GenerateDataKey'], key, encryptionContext(entryArn)),
        row('-', 'kms:GenerateDataKey', key, {
          StringEquals: { 'kms:EncryptionContext:SourceArn': arnJoin('logs', ':*') },
        }),
        row(
          '-',
          [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          '*',
        ),
        row(
          '-',
          [
            'xray:PutTraceSegments',
            'xray:PutTelemetryRecords',
            'xray:GetSamplingRules',
            'xray:GetSamplingTargets',
          ],
          '*',
        ),
      ].sort(),
    );
    // Assumed by Step Functions for this state machine only.
    const trust = (resources[roleId] as Resource).Properties.AssumeRolePolicyDocument as {
      Statement: Statement[];
    };
    expect(trust.Statement[0]?.Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': entryArn },
    });
  });

  it('is named uniquely when the workflow name leaves no room for the suffix', () => {
    // Act
    const { stack, orchestrator } = orchestrate(() => ({ stateMachineName: 'w'.repeat(80) }));
    // Assess
    const declared = Object.values(
      Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
    )
      .map((r) => (r as Resource).Properties.StateMachineName as string)
      .filter((n) => n !== 'w'.repeat(80));
    expect(declared).toHaveLength(1);
    expect(declared[0]?.length).toBeLessThanOrEqual(80);
    expect(declared[0]).toMatch(/MigrateEntry/);
    expect(stack.resolve(orchestrator.migrateEntry.stateMachineArn)).toEqual({
      Ref: stack.getLogicalId(orchestrator.migrateEntry.node.defaultChild as CfnElement),
    });
  });
});

describe('grantStartMigrate', () => {
  it('gives StartExecution on the migrate entry only, and the data key for its input only', () => {
    // Prepare
    const { stack, orchestrator } = orchestrate(() => ({}));
    const operator = new iam.Role(stack, 'ReleaseEngineer', { assumedBy: new iam.AccountRootPrincipal() });
    // Act
    orchestrator.grantStartMigrate(operator);
    // Assess
    const all = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
    const entry = stack.getLogicalId(orchestrator.migrateEntry.node.defaultChild as CfnElement);
    const roleId = stack.getLogicalId(operator.node.defaultChild as CfnElement);
    const statements = statementsOfRole(all, roleId);
    expect(statements.map((s) => ({ ...s, Resource: flat(s.Resource) }))).toEqual([
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: `<${entry}>` },
      {
        Action: 'kms:GenerateDataKey',
        Effect: 'Allow',
        Resource: '<OrchestratorKey509A9E62.Arn>',
        Condition: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': { Ref: entry } } },
      },
    ]);
    const workflow = stack.getLogicalId(orchestrator.stateMachine.node.defaultChild as CfnElement);
    expect(JSON.stringify(statements)).not.toContain(workflow);
  });
});

describe('a run of the migrate entry (aws-local-stepfunctions, StartExecution stubbed)', () => {
  /** Runs the entry's definition on `input`; the stub records what StartExecution.sync:2 was given. */
  async function run(
    input: unknown,
    child: (request: Record<string, unknown>) => unknown = () => ({ outcome: 'released' }),
  ) {
    const requests: Record<string, unknown>[] = [];
    const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: false },
    });
    const execution = machine.run(
      input as never,
      {
        overrides: {
          taskResourceLocalHandlers: {
            [S.startMigration]: async (request: Record<string, unknown>) => {
              requests.push(request);
              return {
                ExecutionArn: 'arn:aws:states:us-east-1:123456789012:execution:w:release-42',
                Status: 'SUCCEEDED',
                Output: child(request),
              };
            },
          },
        },
        context: {
          Execution: {
            Id: 'arn:aws:states:us-east-1:123456789012:execution:e:release-42',
            Name: 'release-42',
          },
        },
      } as never,
    );
    try {
      return { output: await execution.result, requests };
    } catch (caught) {
      if (!(caught instanceof ExecutionError)) throw caught;
      const failure = caught.cause as Error;
      return { error: { name: failure.name, cause: failure.message }, requests };
    }
  }

  it('refuses a restore or a backup, and starts nothing', async () => {
    for (const input of [
      { mode: 'restore', snapshot: 'latest', confirm: 'app-production' },
      { mode: 'backup' },
      { mode: null },
      { mode: 7 },
    ]) {
      // Act
      const result = await run(input);
      // Assess
      expect(result.error?.name, JSON.stringify(input)).toBe(MODE_NOT_MIGRATE_ERROR);
      expect(result.error?.cause).toContain('input field mode');
      expect(result.requests).toEqual([]);
    }
  });

  it('passes a migration through with mode "migrate" forced, under the entry execution\'s name', async () => {
    for (const input of [{ release: 'v42' }, { mode: 'migrate', release: 'v42' }]) {
      // Act
      const result = await run(input);
      // Assess
      expect(result.error).toBeUndefined();
      expect(result.requests).toEqual([
        {
          StateMachineArn: `arn:aws:cloudformation:us-east-1:123456789012:ref/${workflowId}`,
          Name: 'release-42',
          Input: { mode: 'migrate', release: 'v42' },
        },
      ]);
      // The workflow execution's output is the entry's.
      expect(result.output).toEqual({ outcome: 'released' });
    }
  });

  it('fails when the workflow execution fails', async () => {
    // Act
    const result = await run({ release: 'v42' }, () => {
      throw Object.assign(new Error('{"Status":"FAILED","Error":"MigrationFailed"}'), {
        name: 'States.TaskFailed',
      });
    });
    // Assess
    expect(result.error?.name).toBe('States.TaskFailed');
    expect(result.error?.cause).toContain('MigrationFailed');
  });
});
