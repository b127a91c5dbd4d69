/**
 * The alarms (executions failed, timed out, aborted; the outcomes that need an operator, RollbackFailed first) and
 * the dashboard: metrics, dimensions of this state machine, thresholds, actions, runbook articles, and the source
 * of the outcome metric (the report function, invoked on every ended execution).
 */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runbookArticle, Steps } from '../../lambdas/shared/contract/contract.js';
import type { MigrationOrchestrator } from '../../lib/orchestrator.js';
import { type AlarmName, AlarmNames } from '../../lib/private/alarms.js';
import { orchestrate } from './support.js';

type Resource = { Type: string; Properties: Record<string, unknown> };

let stack: Stack;
let orchestrator: MigrationOrchestrator;
let template: Template;
let stateMachineName: string;

beforeAll(() => {
  ({ stack, orchestrator } = orchestrate(() => ({})));
  template = Template.fromStack(stack);
  const declared = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as Resource;
  stateMachineName = declared.Properties.StateMachineName as string;
});

/** The logical id of the CloudFormation resource of `construct`. */
function idOf(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function alarmProps(name: AlarmName, of: Template = template): Record<string, unknown> {
  const found = Object.values(of.findResources('AWS::CloudWatch::Alarm')).filter(
    (alarm) => (alarm as Resource).Properties.AlarmName === `${stateMachineName}-${name}`,
  );
  expect(found, name).toHaveLength(1);
  return (found[0] as Resource).Properties;
}

const COMMON = {
  Threshold: 1,
  ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  EvaluationPeriods: 1,
  DatapointsToAlarm: 1,
  TreatMissingData: 'notBreaching',
  Statistic: 'Sum',
  Period: 60,
};

describe('the alarms', () => {
  it('are exactly the six named alarms, exposed by name', () => {
    // Assess
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    expect(Object.keys(orchestrator.alarms).sort()).toEqual(Object.values(AlarmNames).sort());
    expect(Object.values(AlarmNames).sort()).toEqual([
      'ExecutionsAborted',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'MigrationFailedWithoutSnapshot',
      'ReleaseOutcomeUnknown',
      'RollbackFailed',
    ]);
  });

  it.each([
    ['ExecutionsFailed', 'ExecutionsFailed'],
    ['ExecutionsTimedOut', 'ExecutionsTimedOut'],
    ['ExecutionsAborted', 'ExecutionsAborted'],
  ] as const)('%s watches AWS/States %s of this state machine, on 1 minute, at least 1', (name, metric) => {
    // Assess
    const props = alarmProps(name);
    expect(props).toMatchObject({
      ...COMMON,
      Namespace: 'AWS/States',
      MetricName: metric,
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: idOf(orchestrator.stateMachine) } }],
    });
    expect(props.AlarmDescription).toContain(`see docs/runbook.md, "${name}".`);
    expect(props.AlarmDescription).toContain(stateMachineName);
  });

  it.each(['RollbackFailed', 'ReleaseOutcomeUnknown', 'MigrationFailedWithoutSnapshot'] as const)(
    '%s watches the report function’s Executions metric of that outcome of this state machine',
    (outcome) => {
      // Assess
      const props = alarmProps(outcome);
      expect(props).toMatchObject({
        ...COMMON,
        Namespace: 'PrismaMigrationOrchestrator',
        MetricName: 'Executions',
      });
      expect(props.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'StateMachineName', Value: stateMachineName },
          { Name: 'Outcome', Value: outcome },
        ]),
      );
      expect(props.Dimensions).toHaveLength(2);
      expect(props.AlarmDescription).toContain(`${runbookArticle(outcome)}.`);
    },
  );

  it('says RollbackFailed is high severity, data at risk', () => {
    // Assess
    expect(alarmProps('RollbackFailed').AlarmDescription).toMatch(/^HIGH SEVERITY, data at risk: /);
  });

  it('have the outcome metric emitted by the report function, which runs on every ended execution of this state machine', () => {
    // Assess: the report function (the emitter of Executions by outcome, see execution-metrics.ts) is the target
    // of the rule on this state machine's FAILED executions, so the alarms' metric exists for RollbackFailed.
    const reportFunction = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.includes('ReportsFunction'),
    );
    expect(reportFunction).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: idOf(orchestrator.stateMachine) }],
          status: Match.arrayWith(['FAILED']),
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [reportFunction?.[0], 'Arn'] } })],
    });
  });

  it('notify the notification topic by default, and the construct’s key lets this state machine’s alarms use it', () => {
    // Assess
    for (const name of Object.values(AlarmNames)) {
      expect(alarmProps(name).AlarmActions, name).toEqual([{ Ref: idOf(orchestrator.topic) }]);
    }
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0] as Resource;
    const statements = (key.Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    const forAlarms = statements.filter((s) => s.Sid === 'AllowTheAlarmsOfThisWorkflowToNotify');
    expect(forAlarms).toHaveLength(1);
    expect(forAlarms[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
    const condition = JSON.stringify(forAlarms[0]?.Condition);
    expect(condition).toContain(`:alarm:${stateMachineName}-*`);
    expect(condition).toContain('aws:SourceAccount');
  });

  it('have no action with alarms.actions: [] (and grant nothing on the key)', () => {
    // Act
    const { stack: quiet } = orchestrate(() => ({ alarms: { actions: [] } }));
    const quietTemplate = Template.fromStack(quiet);
    // Assess
    quietTemplate.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    for (const alarm of Object.values(quietTemplate.findResources('AWS::CloudWatch::Alarm'))) {
      expect((alarm as Resource).Properties.AlarmActions ?? []).toEqual([]);
    }
    expect(JSON.stringify(quietTemplate.findResources('AWS::KMS::Key'))).not.toContain(
      'AllowTheAlarmsOfThisWorkflowToNotify',
    );
  });

  it('use the given actions instead of the topic', () => {
    // Act
    const { stack: paged, orchestrator: pagedOrchestrator } = orchestrate((base) => ({
      alarms: {
        actions: [
          new actions.SnsAction(
            new sns.Topic(base.stack, 'Pager', { masterKey: new kms.Key(base.stack, 'PagerKey') }),
          ),
        ],
      },
    }));
    const pagedTemplate = Template.fromStack(paged);
    // Assess
    const pager = paged.getLogicalId(paged.node.findChild('Pager').node.defaultChild as CfnElement);
    const resources = pagedTemplate.toJSON().Resources as Record<string, Resource>;
    for (const alarm of Object.values(pagedOrchestrator.alarms)) {
      const props = resources[paged.getLogicalId(alarm.node.defaultChild as CfnElement)]?.Properties;
      expect(props?.AlarmActions).toEqual([{ Ref: pager }]);
    }
  });
});

/** The dashboard body with each token written `${LogicalId}` (Ref) or `${LogicalId.Attr}` (GetAtt). */
function dashboardBody(): string {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = (dashboards[0] as Resource).Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  return body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as Record<string, unknown>;
      if ('Ref' in token) return `\${${token.Ref}}`;
      const getAtt = token['Fn::GetAtt'] as [string, string] | undefined;
      if (getAtt) return `\${${getAtt[0]}.${getAtt[1]}}`;
      return JSON.stringify(part);
    })
    .join('');
}

describe('the dashboard', () => {
  it('is exposed as the one dashboard of the stack', () => {
    expect(Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))).toEqual([
      idOf(orchestrator.dashboard),
    ]);
  });

  it('shows executions by status (AWS/States of this state machine) and by outcome (the report function)', () => {
    // Prepare
    const body = dashboardBody();
    const arn = `\${${idOf(orchestrator.stateMachine)}}`;
    // Assess
    expect(body).toContain('"title":"Executions by status"');
    for (const metric of [
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
    ]) {
      expect(body, metric).toContain(`["AWS/States","${metric}","StateMachineArn","${arn}"`);
    }
    for (const outcome of [
      'SUCCEEDED',
      'RollbackFailed',
      'MigrationRolledBack',
      'PreflightRefused',
      'TIMED_OUT',
    ]) {
      expect(body, outcome).toMatch(
        new RegExp(
          `\\["PrismaMigrationOrchestrator","Executions",("Outcome","${outcome}","StateMachineName","${stateMachineName}"|"StateMachineName","${stateMachineName}","Outcome","${outcome}")`,
        ),
      );
    }
  });

  it('shows execution time, apply, snapshot and restore durations, migrations applied and rollbacks', () => {
    // Prepare
    const body = dashboardBody();
    const apply = idOf(orchestrator.functions['apply-migrations']);
    // Assess
    expect(body).toContain(
      `["AWS/States","ExecutionTime","StateMachineArn","\${${idOf(orchestrator.stateMachine)}}"`,
    );
    expect(body).toContain(`["AWS/Lambda","Duration","FunctionName","\${${apply}}"`);
    for (const metric of [
      'ApplyDuration',
      'SnapshotDuration',
      'RestoreDuration',
      'MigrationsApplied',
      'Rollbacks',
    ]) {
      expect(body, metric).toContain(
        `["PrismaMigrationOrchestrator","${metric}","StateMachineName","${stateMachineName}"`,
      );
    }
  });

  it('shows the errors of each step function and the state of every alarm', () => {
    // Prepare
    const body = dashboardBody();
    // Assess
    for (const step of Steps) {
      const fn = idOf(orchestrator.functions[step]);
      expect(body, step).toContain(`["AWS/Lambda","Errors","FunctionName","\${${fn}}"`);
    }
    for (const name of Object.values(AlarmNames)) {
      expect(body, name).toContain(`\${${idOf(orchestrator.alarms[name])}.Arn}`);
    }
  });
});
