/**
 * 4. Whole-workflow overhead: the local runner's end-to-end time for the sample release (the sample
 * database at its previous release, with data; the release deploys the last two migrations), split into
 * the steps' own work (the time inside Task states, from the runner's state events: the step cores and
 * their adapters) and the orchestration around them: synthesizing the workflow from the CDK app, the ASL
 * interpreter's setup (it validates the definition), the transitions between states (Choice, Wait,
 * Pass, payload paths), and the runner's work after the last state (the report, retention, the listing of the
 * databases kept aside, the execution lock released).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { withSampleAcknowledgements } from '../bin/sample/release-input.js';
import { createSampleDatabase } from '../bin/sample/sample-app.js';
import { databaseNameFor } from '../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { type RunEvent, runLocal, synthesizedWorkflow } from '../lib/local/runner.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import { databaseUrl, dropDatabase } from './lib/postgres.js';
import { type BenchRow, row } from './lib/report.js';
import { median, round, timed } from './lib/stats.js';

const DATABASE = `${DATABASE_PREFIX}_flow`;

interface RunSplit {
  readonly endToEndMs: number;
  /** Before the execution: synthesizing the CDK app and taking the definition from its template. */
  readonly synthesisMs: number;
  /** From the execution's start to its first state: the interpreter's setup (it validates the definition). */
  readonly setupMs: number;
  /** From the first state to the last one's end, outside Task states: transitions, Choice/Wait/Pass, payload paths. */
  readonly transitionsMs: number;
  /** After the last state: the runner's report, retention, kept-aside listing, lock release. */
  readonly afterMs: number;
  readonly stepsMs: number;
  readonly perStep: ReadonlyMap<string, number>;
  readonly path: readonly string[];
}

/** Runs the sample release once through the local runner and splits its time. */
async function measureRun(context: BenchContext, migrationsDir: string): Promise<RunSplit> {
  const { serverUrl } = context;
  await createSampleDatabase(serverUrl, DATABASE, migrationsDir);
  const entered = new Map<string, number>();
  const perStep = new Map<string, number>();
  let firstState = 0;
  let lastEvent = 0;
  let stepsMs = 0;
  const onEvent = (event: RunEvent) => {
    const now = performance.now();
    if (firstState === 0) firstState = now;
    lastEvent = now;
    if (event.stateType !== 'Task') return;
    if (event.type === 'entered') entered.set(event.state, now);
    if (event.type === 'exited' || event.type === 'failed') {
      const duration = now - (entered.get(event.state) ?? now);
      stepsMs += duration;
      perStep.set(event.state, (perStep.get(event.state) ?? 0) + duration);
    }
  };
  const started = performance.now();
  // The sample release's input acknowledges its DROP COLUMN, as `npm start` sends it (docs/lint.md).
  const result = await runLocal({
    databaseUrl: databaseUrl(serverUrl, DATABASE),
    migrationsDir,
    input: withSampleAcknowledgements(),
    onEvent,
  });
  const ended = performance.now();
  if (result.outcome !== 'succeeded') {
    throw new Error(
      `the sample release ended ${result.outcome} (${result.error?.name ?? 'no error'}: ${result.error?.cause ?? ''}); ` +
        'the workflow benchmark needs a succeeding release',
    );
  }
  const snapshotId = result.state.snapshot?.snapshotId;
  if (snapshotId) await dropDatabase(serverUrl, databaseNameFor(snapshotId));
  await dropDatabase(serverUrl, DATABASE);
  // The runner synthesizes before it starts the execution; its own durationMs covers the execution.
  const endToEndMs = ended - started;
  const executionStart = ended - result.durationMs;
  return {
    endToEndMs,
    synthesisMs: Math.max(0, executionStart - started),
    setupMs: Math.max(0, firstState - executionStart),
    transitionsMs: Math.max(0, lastEvent - firstState - stepsMs),
    afterMs: Math.max(0, ended - lastEvent),
    stepsMs,
    perStep,
    path: result.path,
  };
}

export async function workflowOverhead(context: BenchContext): Promise<BenchRow[]> {
  const migrationsDir = join(context.projectRoot, 'prisma', 'migrations');
  // Warm up (untimed): module loading, the first synthesis of the process, the engine's WebAssembly.
  await timed(async () => synthesizedWorkflow());
  const runs: RunSplit[] = [];
  for (let rep = 0; rep < context.profile.repetitions; rep += 1) {
    const run = await measureRun(context, migrationsDir);
    runs.push(run);
    context.log(
      `  sample release #${rep + 1}: ${run.endToEndMs.toFixed(0)} ms end to end, ${run.stepsMs.toFixed(0)} ms in the steps, ` +
        `${run.synthesisMs.toFixed(0)} ms synthesis, ${run.setupMs.toFixed(0)} ms interpreter setup, ` +
        `${run.transitionsMs.toFixed(0)} ms transitions (${run.path.length} states), ${run.afterMs.toFixed(0)} ms after the last state`,
    );
  }
  const steps = { name: "steps' own work (Task states)", samples: runs.map((r) => r.stepsMs) };
  const perStep: Record<string, number> = {};
  for (const state of runs[0]?.perStep.keys() ?? []) {
    perStep[`${state} (ms)`] = round(median(runs.map((r) => r.perStep.get(state) ?? 0)));
  }
  const details = { states: runs[0]?.path.length ?? 0, ...perStep };
  const caseName = 'sample release (2 migrations)';
  return [
    row('workflow-overhead', {
      case: caseName,
      subject: 'end to end (synthesis + execution)',
      unit: 'ms',
      samples: runs.map((r) => r.endToEndMs),
      baseline: steps,
      details,
    }),
    row('workflow-overhead', {
      case: caseName,
      subject: 'orchestration: synthesizing the workflow',
      unit: 'ms',
      samples: runs.map((r) => r.synthesisMs),
      baseline: steps,
    }),
    row('workflow-overhead', {
      case: caseName,
      subject: 'orchestration: interpreter setup',
      unit: 'ms',
      samples: runs.map((r) => Math.max(0.001, r.setupMs)),
      baseline: steps,
    }),
    row('workflow-overhead', {
      case: caseName,
      subject: 'orchestration: state transitions',
      unit: 'ms',
      samples: runs.map((r) => Math.max(0.001, r.transitionsMs)),
      baseline: steps,
    }),
    row('workflow-overhead', {
      case: caseName,
      subject: 'runner: after the last state (report, retention, lock)',
      unit: 'ms',
      samples: runs.map((r) => Math.max(0.001, r.afterMs)),
      baseline: steps,
    }),
  ];
}
