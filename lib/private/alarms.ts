/**
 * The alarms and the dashboard of the workflow. Alarms: executions failed, timed out and aborted (Step Functions'
 * own metrics of this state machine), and the outcomes that need an operator, RollbackFailed (high severity: data
 * at risk), ReleaseOutcomeUnknown and MigrationFailedWithoutSnapshot, from the `Executions` metric the report
 * function emits per ended execution by outcome (Step Functions has no metric per Fail state). Each alarm's
 * description names its runbook article. Dashboard: executions by status and by outcome, execution time, apply,
 * snapshot and restore durations, and each step function's errors.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  type OutcomeError,
  OutcomeErrors,
  RUNBOOK,
  runbookArticle,
  type Step,
  Steps,
} from '../../lambdas/shared/contract/contract.js';
import { METRICS_NAMESPACE, MetricDimensions, MetricNames } from '../../lambdas/shared/contract/metrics.js';

/** What the alarms do when they fire (`MigrationOrchestratorProps.alarms`). */
export interface AlarmOptions {
  /**
   * The actions of every alarm when it goes into ALARM, e.g. `[new actions.SnsAction(pagerTopic)]`; `[]` for none.
   *
   * @default - publish to the notification topic (`topic`)
   */
  readonly actions?: cloudwatch.IAlarmAction[];
}

/** The alarms, by name. Each name is the title of its article in the runbook. */
export const AlarmNames = {
  executionsFailed: 'ExecutionsFailed',
  executionsTimedOut: 'ExecutionsTimedOut',
  executionsAborted: 'ExecutionsAborted',
  rollbackFailed: OutcomeErrors.RollbackFailed,
  releaseOutcomeUnknown: OutcomeErrors.ReleaseOutcomeUnknown,
  migrationFailedWithoutSnapshot: OutcomeErrors.MigrationFailedWithoutSnapshot,
} as const;
export type AlarmName = (typeof AlarmNames)[keyof typeof AlarmNames];

/** The outcomes that page an operator, each through its own alarm on the report function's `Executions` metric. */
export const PAGED_OUTCOMES = [
  OutcomeErrors.RollbackFailed,
  OutcomeErrors.ReleaseOutcomeUnknown,
  OutcomeErrors.MigrationFailedWithoutSnapshot,
] as const satisfies readonly OutcomeError[];

/** How often the metrics are evaluated (and the dashboard's period). */
export const ALARM_PERIOD = Duration.minutes(1);

/** How an alarm names its runbook article: `see docs/runbook.md, "ExecutionsTimedOut"`. */
export function alarmArticle(name: AlarmName): string {
  return (PAGED_OUTCOMES as readonly string[]).includes(name)
    ? runbookArticle(name as OutcomeError)
    : `see ${RUNBOOK}, "${name}"`;
}

export interface MonitoringProps {
  readonly options?: AlarmOptions;
  readonly stateMachine: sfn.StateMachine;
  /** The state machine's fixed name: the dimension of the report function's metrics, and the alarms' prefix. */
  readonly stateMachineName: string;
  readonly functions: Readonly<Record<Step, lambda.IFunction>>;
  /** The notification topic: the default action. */
  readonly topic: sns.ITopic;
}

/** The `Executions` metric of `outcome` (or status) of the state machine, as the report function emits it. */
export function outcomeMetric(stateMachineName: string, outcome: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: MetricNames.executions,
    dimensionsMap: { [MetricDimensions.stateMachine]: stateMachineName, [MetricDimensions.outcome]: outcome },
    statistic: cloudwatch.Stats.SUM,
    period: ALARM_PERIOD,
  });
}

/** A duration metric of the report function (`ApplyDuration`, `SnapshotDuration`, `RestoreDuration`). */
function durationMetric(stateMachineName: string, metricName: string, label: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [MetricDimensions.stateMachine]: stateMachineName },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.minutes(5),
    unit: cloudwatch.Unit.MILLISECONDS,
    label,
  });
}

/** A count the steps write when it happens (`MigrationsApplied`, `Rollbacks`), summed over five minutes. */
function countMetric(stateMachineName: string, metricName: string, label: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [MetricDimensions.stateMachine]: stateMachineName },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
    unit: cloudwatch.Unit.COUNT,
    label,
  });
}

/** The alarms (`alarms`, by name) and the dashboard (`dashboard`), as `scope`'s child `id`. */
export class Monitoring extends Construct {
  readonly alarms: Readonly<Record<AlarmName, cloudwatch.Alarm>>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { stateMachine, stateMachineName, topic } = props;
    const period = { period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM };
    const open = `Open the execution (Step Functions console, or aws stepfunctions describe-execution --execution-arn <arn>)`;
    const specs: Record<AlarmName, { metric: cloudwatch.IMetric; description: string }> = {
      ExecutionsFailed: {
        metric: stateMachine.metricFailed(period),
        description:
          `An execution of ${stateMachineName} failed. ${open}: its error is the outcome (PreflightRefused, ` +
          'MigrationRolledBack, ...); follow the runbook article titled with it. ',
      },
      ExecutionsTimedOut: {
        metric: stateMachine.metricTimedOut(period),
        description:
          `An execution of ${stateMachineName} exceeded the workflow's timeout and was stopped wherever it was, ` +
          'possibly in the middle of a restore or swap. Check which state it was in (the last events of its ' +
          'history) and which databases exist. ',
      },
      ExecutionsAborted: {
        metric: stateMachine.metricAborted(period),
        description:
          `An execution of ${stateMachineName} was stopped (StopExecution), wherever it was. Check who stopped ` +
          'it (CloudTrail StopExecution), which state it was in, and which databases exist. ',
      },
      RollbackFailed: {
        metric: outcomeMetric(stateMachineName, OutcomeErrors.RollbackFailed),
        description:
          `HIGH SEVERITY, data at risk: an execution of ${stateMachineName} ended in "Rollback failed". Do not ` +
          'start another release. The cause names which databases exist and the command to run. ',
      },
      ReleaseOutcomeUnknown: {
        metric: outcomeMetric(stateMachineName, OutcomeErrors.ReleaseOutcomeUnknown),
        description:
          `Operator action required: an execution of ${stateMachineName} could not read what its release ` +
          'committed; nothing was restored and the snapshot is kept. ',
      },
      MigrationFailedWithoutSnapshot: {
        metric: outcomeMetric(stateMachineName, OutcomeErrors.MigrationFailedWithoutSnapshot),
        description:
          `Operator action required: a release of ${stateMachineName} run without a snapshot (skipSnapshot) ` +
          'failed after committing; there is nothing to restore. ',
      },
    };
    const alarmActions = props.options?.actions ?? [new actions.SnsAction(topic)];
    const alarms = {} as Record<AlarmName, cloudwatch.Alarm>;
    for (const name of Object.values(AlarmNames)) {
      const spec = specs[name];
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmName: `${stateMachineName}-${name}`,
        alarmDescription: `${spec.description}${alarmArticle(name)}.`,
        metric: spec.metric,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(...alarmActions);
      alarms[name] = alarm;
    }
    this.alarms = alarms;
    if (props.options?.actions === undefined) allowAlarmsToUseTheTopicKey(topic, stateMachineName);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(7),
      widgets: dashboardRows(props, Object.values(alarms)),
    });
  }
}

/**
 * CloudWatch publishes to an SSE-KMS topic only if the key policy lets it use the key: on the construct's own key,
 * for this state machine's alarms (`<name>-*`, built from the name: referencing the alarms would be a cycle). An
 * imported key is left alone (`addToResourcePolicy` adds nothing): its policy must allow it (README).
 */
function allowAlarmsToUseTheTopicKey(topic: sns.ITopic, stateMachineName: string): void {
  const stack = Stack.of(topic);
  topic.masterKey?.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowTheAlarmsOfThisWorkflowToNotify',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: `${stateMachineName}-*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}

/** The dashboard's rows: outcomes, durations, step errors and the alarms' states. */
function dashboardRows(props: MonitoringProps, alarms: cloudwatch.IAlarm[]): cloudwatch.IWidget[][] {
  const { stateMachine, stateMachineName, functions } = props;
  const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
  const outcomes = ['SUCCEEDED', ...Object.values(OutcomeErrors), 'FAILED', 'TIMED_OUT', 'ABORTED'].map(
    (outcome) =>
      outcomeMetric(stateMachineName, outcome).with({ period: Duration.minutes(5), label: outcome }),
  );
  return [
    [
      new cloudwatch.GraphWidget({
        title: 'Executions by status',
        left: [
          stateMachine.metricSucceeded({ ...fiveMinutes, label: 'succeeded' }),
          stateMachine.metricFailed({ ...fiveMinutes, label: 'failed' }),
          stateMachine.metricTimedOut({ ...fiveMinutes, label: 'timed out' }),
          stateMachine.metricAborted({ ...fiveMinutes, label: 'aborted' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Executions by outcome (the report function, one per ended execution)',
        left: outcomes,
        stacked: true,
        width: 12,
      }),
    ],
    [
      new cloudwatch.GraphWidget({
        title: 'Execution time',
        left: [
          stateMachine.metricTime({ statistic: cloudwatch.Stats.AVERAGE, label: 'average' }),
          stateMachine.metricTime({ statistic: cloudwatch.Stats.MAXIMUM, label: 'maximum' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Apply duration',
        left: [
          durationMetric(stateMachineName, MetricNames.applyDuration, 'apply step (report)'),
          functions['apply-migrations'].metricDuration({
            statistic: cloudwatch.Stats.MAXIMUM,
            label: 'apply function invocation',
          }),
        ],
        right: [countMetric(stateMachineName, MetricNames.migrationsApplied, 'migrations applied')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Snapshot and restore durations (until available)',
        left: [
          durationMetric(stateMachineName, MetricNames.snapshotDuration, 'snapshot'),
          durationMetric(stateMachineName, MetricNames.restoreDuration, 'restore'),
        ],
        right: [countMetric(stateMachineName, MetricNames.rollbacks, 'rollbacks started')],
        width: 8,
      }),
    ],
    [
      new cloudwatch.GraphWidget({
        title: 'Step errors (each step function)',
        left: Steps.map((step) => functions[step].metricErrors({ ...fiveMinutes, label: step })),
        width: 16,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 8 }),
    ],
  ];
}
