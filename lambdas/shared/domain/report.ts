/**
 * The execution report, built by one pure function from what is known of an execution: its identity and status,
 * its input, the last state document, the path through the workflow and the notifications the workflow sent.
 * The report Lambda (from DescribeExecution and GetExecutionHistory) and the local runner (from its own run) both
 * call `buildReport`, so the two reports of one workflow cannot differ in shape.
 *
 * Nothing a report holds may be a secret or a table row: every string goes through the row-value redaction,
 * credentials in URLs are masked, and fields named like secrets are dropped to `***`.
 */
import {
  type ApplyResult,
  type CaughtError,
  type OperationPlan,
  OutcomeErrors,
  type Plan,
  runbookArticle,
  StateNames,
  type WorkflowState,
} from '../contract/contract.js';
// Types only: the schema library stays out of the report function's bundle.
import type { ExecutionReport, ReportPathEntry } from '../contract/report-schema.js';
import { releaseOf } from '../contract/state.js';
import { redactDeep } from './redaction.js';

/** Bumped when a report field changes meaning or goes away; new optional fields keep the version. */
export const REPORT_SCHEMA_VERSION = 1;

export type ExecutionStatus = ExecutionReport['execution']['status'];
export type StateType = ReportPathEntry['type'];

/** One visit of a state, as the history or the local runner saw it. */
export interface StateVisit {
  readonly state: string;
  readonly type: StateType;
  readonly enteredAt: string;
  /** When the state was left (exited, or failed); absent while it runs. */
  readonly leftAt?: string;
  /** Its error was caught, or ended the execution. */
  readonly failed: boolean;
  readonly retries: number;
}

/** A message the workflow published itself (the SNS integration's resolved parameters). */
export interface RecordedNotification {
  readonly state: string;
  readonly subject?: string;
  readonly message: string;
}

export interface ReportSource {
  readonly runtime: 'aws' | 'local';
  readonly execution: {
    readonly name: string;
    readonly arn: string;
    readonly stateMachine?: string;
    readonly status: ExecutionStatus;
    readonly startedAt: string;
    readonly stoppedAt?: string;
    readonly consoleUrl?: string;
  };
  readonly input: unknown;
  /** The last state document known: the output of a succeeded execution, else the input of its last state. */
  readonly state?: WorkflowState;
  readonly path: readonly StateVisit[];
  /** The error and cause the execution ended with. */
  readonly error?: { readonly name: string; readonly cause?: string };
  readonly notifications?: readonly RecordedNotification[];
  readonly generatedAt: string;
}

/** The summary of a succeeded execution, by its terminal state. */
const SUCCESS_SUMMARIES: Readonly<Record<string, string>> = {
  [StateNames.succeeded]: 'Migrations applied and the database verified healthy.',
  [StateNames.nothingToDo]: 'Nothing to do: every migration was already applied (or this was a dry run).',
  [StateNames.backupTaken]: 'Backup taken and the retention policy applied.',
  [StateNames.backupRestored]:
    'The snapshot was restored and swapped into place; the replaced database is kept aside.',
};

/** Builds the report of one execution (see the module comment). Pure: the same source, the same report. */
export function buildReport(source: ReportSource): ExecutionReport {
  const { state, execution } = source;
  const plan = state?.plan;
  const terminal = terminalStateOf(source.path);
  const succeeded = execution.status === 'SUCCEEDED';
  const durationMs = millisBetween(execution.startedAt, execution.stoppedAt);
  const cause = source.error?.cause === undefined ? undefined : messageOf(source.error.cause);
  const report: ExecutionReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: source.generatedAt,
    runtime: source.runtime,
    execution: {
      name: execution.name,
      arn: execution.arn,
      ...(execution.stateMachine ? { stateMachine: execution.stateMachine } : {}),
      status: execution.status,
      startedAt: execution.startedAt,
      ...(execution.stoppedAt ? { stoppedAt: execution.stoppedAt } : {}),
      ...(durationMs === undefined ? {} : { durationMs }),
      ...(execution.consoleUrl ? { consoleUrl: execution.consoleUrl } : {}),
    },
    ...(plan ? { mode: plan.mode } : {}),
    ...optional('release', releaseOf(source.input)),
    ...optional('target', plan?.targetIdentifier),
    ...optional('database', plan?.mode === 'migrate' ? plan.databaseName : undefined),
    outcome: {
      succeeded,
      ...optional('terminalState', terminal),
      ...optional('error', source.error?.name),
      ...optional('cause', cause),
      summary: summaryOf(execution.status, terminal, source.error?.name, cause),
    },
    input: source.input ?? null,
    ...(plan ? { plan: json<ExecutionReport['plan']>(plan) } : {}),
    ...migrationsOf(plan, state),
    ...(plan?.mode === 'migrate' && plan.lint ? { lint: json<ExecutionReport['lint']>(plan.lint) } : {}),
    ...(state?.snapshot ? { snapshot: json<ExecutionReport['snapshot']>(state.snapshot) } : {}),
    ...(state?.health ? { health: json<ExecutionReport['health']>(state.health) } : {}),
    ...driftOf(plan, state),
    ...optional('failure', stepErrorOf(state?.error)),
    ...rollbackOf(state),
    ...(state?.retention ? { retention: json<ExecutionReport['retention']>(state.retention) } : {}),
    notifications: (source.notifications ?? []).map((n) => ({
      state: n.state,
      ...optional('subject', n.subject),
      message: n.message,
    })),
    ...optional('notificationError', stepErrorOf(state?.notifyError)),
    path: source.path.map(pathEntryOf),
    durations: {
      ...(durationMs === undefined ? {} : { totalMs: durationMs }),
      byState: durationsByState(source.path),
    },
  };
  return withoutSecrets(report);
}

/** A deep copy of a contract payload as plain JSON (undefined fields dropped), typed as the report's field. */
function json<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function millisBetween(from: string, to: string | undefined): number | undefined {
  if (to === undefined) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) ? Math.max(0, Math.round(ms)) : undefined;
}

/** The last state entered when it is a terminal one (Succeed or Fail). */
function terminalStateOf(path: readonly StateVisit[]): string | undefined {
  const last = path.at(-1);
  return last && (last.type === 'Succeed' || last.type === 'Fail') ? last.state : undefined;
}

/**
 * What a step said, from a Step Functions cause: a Lambda error's cause is JSON (`errorType`, `errorMessage`,
 * `trace`): only the message is kept (a stack trace says nothing to the reader and may name paths).
 */
export function messageOf(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string')
      return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message (a Fail state's own cause, the rollback's account).
  }
  return cause;
}

function stepErrorOf(error: CaughtError | undefined): ExecutionReport['failure'] {
  if (!error) return undefined;
  return {
    name: error.Error,
    ...optional('message', error.Cause === undefined ? undefined : messageOf(error.Cause)),
  };
}

function summaryOf(
  status: ExecutionStatus,
  terminal: string | undefined,
  error: string | undefined,
  cause: string | undefined,
): string {
  if (status === 'SUCCEEDED') return (terminal && SUCCESS_SUMMARIES[terminal]) ?? 'Succeeded.';
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return 'Still running.';
  if (status === 'TIMED_OUT' || status === 'ABORTED') {
    return `The execution ${status === 'ABORTED' ? 'was stopped' : 'timed out'}${terminal ? '' : ' mid-way'}: look at the last state of its path before acting (${runbookArticle(OutcomeErrors.RollbackFailed)} if it was restoring).`;
  }
  const known = (Object.values(OutcomeErrors) as string[]).includes(error ?? '');
  const head = `${error ?? 'Failed'}${terminal ? ` (${terminal})` : ''}`;
  const firstLine = cause?.split('\n')[0];
  return `${head}${firstLine ? `: ${firstLine}` : ''}${known ? ` (${runbookArticle(error as (typeof OutcomeErrors)[keyof typeof OutcomeErrors])})` : ''}`;
}

function migrationsOf(
  plan: OperationPlan | undefined,
  state: WorkflowState | undefined,
): Pick<ExecutionReport, 'migrations'> {
  if (plan?.mode !== 'migrate') return {};
  const apply = state?.apply;
  return {
    migrations: {
      pending: [...plan.pending],
      applied: [...(apply?.applied ?? [])],
      transactionMode: apply?.transactionMode ?? plan.transactionMode,
      ...optional('durationMs', apply?.durationMs),
      ...(apply?.timings
        ? { timings: apply.timings.map(({ name, durationMs }) => ({ name, durationMs })) }
        : {}),
      ...optional('timingsOmitted', apply?.timingsOmitted),
      ...optional('assessed', apply?.assessed),
      ...(plan.resolve?.length ? { resolved: resolutionsOf(plan.resolve, apply?.resolved) } : {}),
    },
  };
}

/**
 * The input's resolutions with their evidence and what the apply step did with each: `not-reported` when it did not
 * say (it failed or never ran: in `release` mode a failed release rolled the mark back with it; in `per-migration`
 * mode a mark made before the failure stays, as `_prisma_migrations` shows).
 */
function resolutionsOf(
  planned: NonNullable<Plan['resolve']>,
  performed: ApplyResult['resolved'],
): NonNullable<NonNullable<ExecutionReport['migrations']>['resolved']> {
  return planned.map(({ migration, as, reason, evidence }) => ({
    migration,
    as,
    reason,
    evidence: {
      comparedWith: { ...evidence.comparedWith },
      matches: evidence.matches,
      differences: [...evidence.differences],
      ignoredCount: evidence.ignoredCount,
    },
    how: performed?.find((r) => r.migration === migration)?.how ?? 'not-reported',
  }));
}

function driftOf(
  plan: OperationPlan | undefined,
  state: WorkflowState | undefined,
): Pick<ExecutionReport, 'drift'> {
  const baseline = plan?.mode === 'migrate' ? plan.driftBaseline : undefined;
  const checks = [...(state?.health?.checks ?? []), ...(state?.rollbackHealth?.checks ?? [])].filter(
    (check) => check.kind === 'drift',
  );
  if (baseline === undefined && checks.length === 0) return {};
  return {
    drift: {
      ...optional('baseline', baseline),
      checks: json<NonNullable<ExecutionReport['drift']>['checks']>(checks),
    },
  };
}

type Rollback = NonNullable<ExecutionReport['rollback']>;

function rollbackOf(state: WorkflowState | undefined): Pick<ExecutionReport, 'rollback'> {
  if (!state || (!state.restore && !state.swap && !state.rollbackHealth && !state.rollbackError)) return {};
  return {
    rollback: {
      ...(state.restore ? { restore: json<Rollback['restore']>(state.restore) } : {}),
      ...(state.swap ? { swap: json<Rollback['swap']>(state.swap) } : {}),
      ...(state.rollbackHealth ? { health: json<Rollback['health']>(state.rollbackHealth) } : {}),
      ...optional('error', stepErrorOf(state.rollbackError)),
    },
  };
}

function pathEntryOf(visit: StateVisit): ReportPathEntry {
  const durationMs = millisBetween(visit.enteredAt, visit.leftAt);
  const isTerminal = visit.type === 'Succeed' || visit.type === 'Fail';
  return {
    state: visit.state,
    type: visit.type,
    enteredAt: visit.enteredAt,
    ...(durationMs === undefined ? {} : { durationMs }),
    result:
      visit.failed || visit.type === 'Fail' ? 'failed' : visit.leftAt || isTerminal ? 'succeeded' : 'running',
    retries: visit.retries,
  };
}

function durationsByState(path: readonly StateVisit[]): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const visit of path) {
    const ms = millisBetween(visit.enteredAt, visit.leftAt);
    if (ms !== undefined) totals[visit.state] = (totals[visit.state] ?? 0) + ms;
  }
  return totals;
}

/** Field names whose values are never written, whatever they hold. */
const SECRET_KEYS = /^(password|passwd|secret|secretString|token|apiKey|credentials?)$/i;

/** `scheme://user:password@host` -> `scheme://user:***@host`. */
function withoutUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s/]+@/gi, '$1:***@');
}

/** Row values redacted (`redactDeep`), URL credentials masked and secret-named fields dropped to `***`. */
export function withoutSecrets<T>(value: T): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') return withoutUrlCredentials(node);
    if (Array.isArray(node)) return node.map(visit);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node as Record<string, unknown>).map(([key, item]) => [
          key,
          SECRET_KEYS.test(key) && item !== null && item !== undefined ? '***' : visit(item),
        ]),
      );
    }
    return node;
  };
  return redactDeep(visit(value)) as T;
}
