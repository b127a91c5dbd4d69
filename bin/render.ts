/**
 * What the command line prints about an execution, whichever runtime ran it: the state lines as they happen
 * ("[   1.53s] -> State") and the summary at the end. The local runner's events and an AWS execution's history
 * (bin/operator/history.ts) both arrive here as `RunEvent`s and a `SummaryResult`, so the two read the same.
 */
import type { UnfinishedExecution } from '../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import {
  type OperationPlan,
  type OutcomeError,
  OutcomeErrors,
  runbookArticle,
} from '../lambdas/shared/contract/contract.js';
import type { InterruptionReport } from '../lib/local/interruption.js';
import { Outcomes } from '../lib/local/outcomes.js';
import type { LocalRunResult, RunEvent } from '../lib/local/runner.js';

/** What the summary reads of a run: a local run's result, or the same facts read from an AWS execution. */
export type SummaryResult = Pick<
  LocalRunResult,
  'outcome' | 'exitCode' | 'executionName' | 'state' | 'durationMs'
> &
  Partial<Pick<LocalRunResult, 'error' | 'snapshots' | 'keptAside' | 'interruption' | 'unfinished'>>;

export interface SummaryOptions {
  /** Where the execution ran: what the next-step hints say (a local database, or an RDS instance or cluster). @default 'local' */
  readonly runtime?: 'local' | 'aws';
}

/** The hints of the summary that differ between a local database and an RDS instance or cluster. */
const HINTS = {
  local: {
    listBackups: '; list them with: npm start -- backups',
    keptAside: (name: string) => `never dropped automatically; when nobody needs it: DROP DATABASE "${name}"`,
  },
  aws: {
    listBackups: ' (the managed snapshots of the target, in the RDS console)',
    keptAside: (_name: string) =>
      'never deleted automatically; delete it in RDS when nobody needs it (a final snapshot is prudent)',
  },
} as const;

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

/** Prints each state as it is entered and left, with the elapsed time. */
export function stateReporter(): (event: RunEvent) => void {
  const enteredAt = new Map<string, number>();
  return (event) => {
    const at = `[${seconds(event.elapsedMs).padStart(7)}]`;
    switch (event.type) {
      case 'entered':
        enteredAt.set(event.state, event.elapsedMs);
        print(`${at} -> ${event.state}`);
        break;
      case 'exited': {
        const took = event.elapsedMs - (enteredAt.get(event.state) ?? event.elapsedMs);
        print(`${at} <- ${event.state} (${took} ms)`);
        break;
      }
      case 'failed':
        print(
          event.stateType === 'Fail'
            ? `${at} == ${event.state}: the execution ends with ${event.detail ?? 'an error'}`
            : `${at} !! ${event.state} failed: ${event.detail ?? 'error'}`,
        );
        break;
      case 'retried':
        print(`${at} .. ${event.state} retried`);
        break;
      case 'caught':
        print(`${at} >> ${event.state}: error caught, taking the recovery path`);
        break;
    }
  };
}

export function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    return parsed.errorMessage ? `${parsed.errorType}: ${parsed.errorMessage}` : cause;
  } catch {
    return cause;
  }
}

/** The outcomes an operator must act on, each with what it means for the data. */
export const ALARMS: Partial<Record<LocalRunResult['outcome'], string>> = {
  'rollback-failed': 'DATA AT RISK: the rollback did not complete. The database may hold the failed release.',
  'failed-without-snapshot':
    'DATA AT RISK: the release committed part of itself, then failed, and no snapshot was taken (skipSnapshot): ' +
    'nothing was restored. The database holds what the release left.',
  'outcome-unknown':
    'The release failed and what it committed could not be read: nothing was restored on a guess. Look before acting.',
};

export function printSummary(result: SummaryResult, options: SummaryOptions = {}): void {
  const hints = HINTS[options.runtime ?? 'local'];
  const { state } = result;
  print();
  print('Summary');
  print(`  outcome:    ${result.outcome} (exit ${result.exitCode}): ${Outcomes[result.outcome].summary}`);
  print(`  execution:  ${result.executionName}`);
  if (state.plan?.mode === 'backup') {
    print(`  database:   ${state.plan.targetIdentifier}`);
  } else if (state.plan?.mode === 'restore') {
    const { source } = state.plan;
    print(`  database:   ${state.plan.targetIdentifier}`);
    print(
      `  restoring:  ${source.snapshotId} (${source.kind}, taken ${source.createdAt}; asked for ${source.requested})`,
    );
  } else if (state.plan) {
    print(`  database:   ${state.plan.databaseName}`);
    print(
      `  plan:       ${state.plan.pending.length} pending of ${state.plan.totalMigrations}, transaction mode ${state.plan.transactionMode}` +
        (state.plan.transactionFallbackReason ? ` (fallback: ${state.plan.transactionFallbackReason})` : ''),
    );
    if (state.plan.lockedTables.length > 0) print(`  locks:      ${state.plan.lockedTables.join(', ')}`);
  }
  for (const warning of state.plan?.warnings ?? []) print(`  warning:    ${warning}`);
  if (state.plan?.mode === 'migrate') {
    for (const ack of state.plan.lint?.acknowledged ?? [])
      print(
        `  acknowledged: ${ack.rule} in ${ack.migration} (${ack.file}:${ack.line}:${ack.column}, "${ack.statement}"): ${ack.reason}`,
      );
  }
  if (state.plan?.mode === 'migrate') {
    for (const r of state.plan.resolve ?? []) {
      const scope = r.as === 'applied' ? 'up to and including it' : 'before it';
      const ignored = r.evidence.ignoredCount > 0 ? `, ${r.evidence.ignoredCount} ignored difference(s)` : '';
      print(
        `  resolve:    ${r.migration} as ${r.as}: ${r.reason} (evidence: the schema matches the ` +
          `${r.evidence.comparedWith.count} migrations ${scope}${ignored})`,
      );
    }
  }
  for (const r of state.apply?.resolved ?? [])
    print(
      `  resolved:   ${r.migration} ${r.how === 'marked' ? 'marked' : 'already'} ${r.as} in _prisma_migrations`,
    );
  if (state.plan?.mode === 'migrate' && state.plan.dryRun && state.plan.pending.length > 0)
    print(`  pending:    ${state.plan.pending.join(', ')} (dry run: not applied)`);
  for (const warning of state.snapshot?.warnings ?? []) print(`  warning:    ${warning}`);
  if (state.retention) {
    print(`  retention:  ${state.retention.policy}`);
    for (const deleted of state.retention.deleted)
      print(`  deleted:    ${deleted.snapshotId} (${deleted.why})`);
    print(`  kept:       ${state.retention.kept.length} snapshot(s)${hints.listBackups}`);
  }
  if (state.apply) print(`  applied:    ${state.apply.applied.join(', ') || '(none)'}`);
  else if (result.outcome === 'nothing-to-do')
    print('  applied:    nothing pending, the database is up to date');
  for (const warning of state.health?.warnings ?? []) print(`  warning:    ${warning}`);
  if (state.snapshot) print(`  snapshot:   ${state.snapshot.snapshotId} (${state.snapshot.status})`);
  if (state.swap?.complete) {
    const replaced =
      state.plan?.mode === 'restore' ? 'the database it replaced' : 'the failed database, for forensics';
    print(`  restored:   ${state.swap.originalIdentifier} now holds the snapshot's data`);
    print(
      `  kept aside: ${state.swap.asideIdentifier} (${replaced}; ${hints.keptAside(state.swap.asideIdentifier)})`,
    );
  }
  if (result.error) {
    print(`  error:      ${result.error.name}`);
    if (result.error.cause) print(`  cause:      ${causeMessage(result.error.cause)}`);
  }
  if (result.snapshots?.dropped)
    print(`  snapshot:   ${result.snapshots.dropped} dropped (the database ended unchanged)`);
  if (result.snapshots?.droppedCopy)
    print(`  restored:   ${result.snapshots.droppedCopy} dropped (never swapped in: nothing was replaced)`);
  for (const pruned of result.snapshots?.pruned ?? [])
    print(`  pruned:     ${pruned} (older than the ${result.snapshots?.kept.length} kept snapshot(s))`);
  if (result.snapshots?.kept.length)
    print(`  kept:       ${result.snapshots.kept.join(', ')} (snapshots of the latest successful releases)`);
  if (result.snapshots?.warning) print(`  warning:    ${result.snapshots.warning}`);
  for (const aside of result.keptAside ?? []) {
    if (state.swap?.complete && aside.name === state.swap.asideIdentifier) continue;
    print(
      `  kept aside: ${aside.name} (never dropped automatically; when nobody needs it: ${aside.dropCommand})`,
    );
  }
  if (result.interruption) printInterruption(result.interruption);
  if (result.unfinished) printUnfinished(result.unfinished);
  print(`  total time: ${seconds(result.durationMs)}`);
  const alarm = ALARMS[result.outcome];
  if (alarm) {
    print();
    print(`!!! ${alarm}`);
    print('!!! Read the cause above: it names every database involved and the single action that recovers.');
    print(
      `!!! Before doing anything else, ${runbookArticle(articleOf(result.outcome, result.error?.name))}.`,
    );
  }
}

/**
 * The runbook article of an outcome: its terminal error's, or, when the execution ended otherwise (timed out,
 * aborted, an error no Fail state raises), the outcome's own.
 */
function articleOf(outcome: SummaryResult['outcome'], error: string | undefined): OutcomeError {
  if (error && (Object.values(OutcomeErrors) as string[]).includes(error)) return error as OutcomeError;
  return outcome === 'outcome-unknown' ? OutcomeErrors.ReleaseOutcomeUnknown : OutcomeErrors.RollbackFailed;
}

/** What `plan` prints after the summary: the parts of a migration plan the summary leaves out. */
export function printPlanDetails(plan: OperationPlan | undefined): void {
  if (plan?.mode !== 'migrate') return;
  print();
  print('Plan');
  print(
    `  migrations: ${plan.totalMigrations} in the release, ${plan.applied.length} applied, ${plan.pending.length} pending`,
  );
  for (const name of plan.pending) print(`  pending:    ${name}`);
  if (plan.edited.length > 0)
    print(`  edited:     ${plan.edited.join(', ')} (changed after they were applied; not re-applied)`);
  if (plan.unknownApplied.length > 0)
    print(`  unknown:    ${plan.unknownApplied.join(', ')} (applied, with no migration directory)`);
  if (plan.nonAtomic?.length)
    print(`  non-atomic: ${plan.nonAtomic.join(', ')} (cannot run in one transaction)`);
  print(
    `  snapshot:   ${plan.snapshotRequired ? 'taken before applying' : `skipped (${plan.skipSnapshotReason ?? 'skipSnapshot'})`}`,
  );
}

export function printInterruption(report: InterruptionReport): void {
  print(`  interrupted: during ${report.step ?? 'the start of the run'}; where things stand:`);
  for (const fact of report.facts) print(`    - ${fact}`);
  for (const left of report.unfinished) print(`    ! ${left}`);
  print(`  next:       ${report.nextAction}`);
}

export function printUnfinished(unfinished: UnfinishedExecution): void {
  print('  An earlier execution on this database did not finish. Found:');
  for (const fact of unfinished.found) print(`    - ${fact}`);
  print(`  next:       ${unfinished.nextAction}`);
  print(
    '  Nothing was created or changed. (If another run on this database is in progress right now, wait for it.)',
  );
}
