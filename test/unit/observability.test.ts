/**
 * What the handlers write besides their result: the correlation keys of a log line (which Task state, which
 * execution) and the metrics of a step (Embedded Metric Format, through Powertools Metrics).
 */
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { StateNames, type Step, Steps, type WorkflowState } from '../../lambdas/shared/contract/contract.js';
import { METRICS_NAMESPACE, MetricNames } from '../../lambdas/shared/contract/metrics.js';
import { type LambdaTaskKey, Routing, type TaskKey } from '../../lambdas/shared/contract/routing.js';
import { correlationOf, reportCorrelationOf, taskStateOf } from '../../lambdas/shared/runtime/correlation.js';
import { functionHandler, stepHandler } from '../../lambdas/shared/runtime/handler-factory.js';
import {
  applyMetrics,
  restoreMetrics,
  stateMachineNameOf,
} from '../../lambdas/shared/runtime/step-metrics.js';
import { stateWith, testExecution } from '../helpers/fakes.js';
import { captureOutput } from '../helpers/output.js';

const lambdaTasks = (Object.keys(Routing) as TaskKey[]).filter(
  (key): key is LambdaTaskKey => 'step' in Routing[key],
);

/** The state document each Task state receives, as far as telling them apart goes. */
function stateAt(key: LambdaTaskKey): WorkflowState {
  return key === 'verifyRollbackHealth'
    ? stateWith({
        swap: {
          phase: 'complete',
          complete: true,
          originalIdentifier: 'orders-db',
          asideIdentifier: 'orders-db-rolledback-1',
          restoredIdentifier: 'orders-db-restored-1',
          waitSeconds: 0,
          attempts: 1,
        },
      })
    : stateWith();
}

const context = { awsRequestId: 'req-1', functionName: 'fn' } as unknown as Context;

describe('taskStateOf', () => {
  it.each(lambdaTasks)('names the Task state %s from its step and state document', (key) => {
    const { step } = Routing[key] as { step: Step };
    expect(taskStateOf(step, stateAt(key))).toBe(StateNames[key]);
  });

  it('tells every step of the workflow', () => {
    for (const step of Steps) expect(taskStateOf(step, stateWith()), step).toEqual(expect.any(String));
  });

  it('says nothing of a shared step without a state document', () => {
    expect(taskStateOf('verify-health', 'not a state document')).toBeUndefined();
  });
});

describe('correlationOf', () => {
  it('reads the state, execution and release from the state document, the target and request id beside it', () => {
    const keys = correlationOf('swap', stateWith({ input: { release: 'v1.4.0' } }), 'req-123', 'orders-db');
    expect(keys).toEqual({
      state: StateNames.swap,
      execution: testExecution.name,
      release: 'v1.4.0',
      target: 'orders-db',
      requestId: 'req-123',
    });
  });

  it('leaves out what it cannot read', () => {
    expect(correlationOf('preflight', { input: { release: 7 } }, '', undefined)).toEqual({
      state: StateNames.preflight,
    });
  });
});

describe('reportCorrelationOf', () => {
  it("reads the execution's name from the EventBridge event", () => {
    const event = { detail: { executionArn: testExecution.id } };
    expect(reportCorrelationOf(event, 'req-9')).toEqual({ execution: 'exec-1', requestId: 'req-9' });
    expect(reportCorrelationOf({ detail: { executionArn: 'nonsense' } }, undefined)).toEqual({});
  });
});

describe('step metrics', () => {
  it('reads the state machine name from the execution ARN', () => {
    expect(stateMachineNameOf(stateWith())).toBe('orchestrator');
    expect(stateMachineNameOf({ execution: { id: 'local-exec-1' } })).toBeUndefined();
  });

  it('counts the migrations a release applied, and a rollback only in a migration', () => {
    expect(
      applyMetrics({ applied: ['m1', 'm2'], transactionMode: 'release', durationMs: 5 }, stateWith()),
    ).toEqual([{ name: MetricNames.migrationsApplied, unit: 'Count', value: 2 }]);
    const migration = stateWith({ plan: { mode: 'migrate' } as WorkflowState['plan'] });
    const restore = stateWith({ plan: { mode: 'restore' } as WorkflowState['plan'] });
    expect(restoreMetrics({}, migration)).toEqual([{ name: MetricNames.rollbacks, unit: 'Count', value: 1 }]);
    expect(restoreMetrics({}, restore)).toEqual([]);
  });

  it('are written as one EMF document by StateMachineName when the step succeeds', async () => {
    // Prepare
    const handler = stepHandler('restore-snapshot', async () => ({ status: 'creating' }), {
      metrics: restoreMetrics,
    });
    const output = captureOutput();

    // Act
    try {
      await handler(stateWith({ plan: { mode: 'migrate' } as WorkflowState['plan'] }), context);
    } finally {
      output.restore();
    }

    // Assess
    const documents = output.json().filter((line) => '_aws' in line);
    expect(documents).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              Dimensions: [['StateMachineName']],
              Metrics: [{ Name: MetricNames.rollbacks, Unit: 'Count' }],
            },
          ],
        },
        StateMachineName: 'orchestrator',
        [MetricNames.rollbacks]: 1,
      },
    ]);
  });

  it('write nothing, and warn of nothing, when a step measured nothing', async () => {
    // Prepare
    const restore = stepHandler('restore-snapshot', async () => ({}), { metrics: restoreMetrics });
    const failing = functionHandler('report', async () => {
      throw new Error('no execution');
    });
    const output = captureOutput();

    // Act
    try {
      await restore(stateWith({ plan: { mode: 'restore' } as WorkflowState['plan'] }), context);
      await failing({}, context).catch(() => undefined);
    } finally {
      output.restore();
    }

    // Assess
    const lines = output.json();
    expect(lines.filter((line) => '_aws' in line)).toEqual([]);
    expect(lines.map((line) => `${line.level} ${line.message}`)).toEqual([
      'INFO step started',
      'INFO step succeeded',
      'INFO step started',
      'ERROR step failed',
    ]);
  });
});
