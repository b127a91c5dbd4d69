/**
 * What a local run does when it is interrupted (SIGINT/SIGTERM): end its own statements on the server, bring
 * a swap in progress to a state where the original name holds real data, drop the shadow databases it
 * created, and say where things stand. Everything here has a deadline: an interrupted run must end.
 */

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { urlWithDatabase, withClient } from '../../lambdas/shared/adapters/postgres/connection.js';
import {
  databaseNameFor,
  dropCommand,
  type PostgresSnapshotGateway,
} from '../../lambdas/shared/adapters/postgres/snapshot-gateway.js';
import { readPrismaHistory } from '../../lambdas/shared/adapters/prisma/history.js';
import {
  SHADOW_DATABASE_PREFIX,
  shadowDatabasesOfThisProcess,
} from '../../lambdas/shared/adapters/prisma/shadow-database.js';
import type { ExecutionInfo, Step, WorkflowState } from '../../lambdas/shared/contract/contract.js';
import { modeOf, requirePlan } from '../../lambdas/shared/contract/state.js';
import {
  backupSnapshotId,
  preMigrationSnapshotId,
  restoredIdentifier,
  sanitizeIdentifierPart,
} from '../../lambdas/shared/domain/identifiers.js';
import { applySessionName, judgeRelease, listOfNames } from '../../lambdas/shared/domain/release-evidence.js';

/** PostgreSQL truncates `application_name` to 63 bytes. */
const MAX_APPLICATION_NAME = 63;

/**
 * The `application_name` of every server session of a local run except the apply step's migration session
 * (which has `applySessionName`): how the run finds its own statements on the server when interrupted. Made
 * from the execution id alone (unique per run), since it is needed before the workflow records its start.
 */
export function runSessionName(executionId: string): string {
  const hash = createHash('sha256').update(executionId).digest('hex');
  return `migration-orchestrator-run-${hash.slice(0, 16)}`.slice(0, MAX_APPLICATION_NAME);
}

/** The application names of a run's sessions on the server, as the workflow recorded its execution. */
export function sessionNamesOf(execution: Pick<ExecutionInfo, 'id' | 'startedAt'>): readonly string[] {
  return [runSessionName(execution.id), applySessionName(execution)];
}

/**
 * What a run killed before its cleanup finished may leave: the message of a second Ctrl-C (the CLI's and
 * the test script's).
 */
export function leftByKill(databaseName: string, sessionNames: readonly string[]): string {
  const prefix = sanitizeIdentifierPart(databaseName);
  return (
    `statements of this run still running on the server (pg_stat_activity, application_name ${sessionNames.join(' or ')}: ` +
    'end them with pg_terminate_backend), a shadow database prisma_migrate_shadow_db_* it created, and, if a ' +
    `rollback was swapping, ${databaseName} renamed aside (${prefix}-rolledback-*) with the restored copy ` +
    `(${prefix}-restored-*) not yet renamed in`
  );
}

/** `url` with `application_name` set (pg reads it from the URL; it wins over the client's default). */
export function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/** Where things stand after an interrupt, as the run tells it. */
export interface InterruptionReport {
  /** The step that was running (or the last one entered). */
  readonly step?: Step;
  /** Facts, one a line: what was ended, what exists. */
  readonly facts: readonly string[];
  /** The one next action. */
  readonly nextAction: string;
  /** What the cleanup could not do in time or at all (empty when it finished). */
  readonly unfinished: readonly string[];
}

export interface InterruptContext {
  readonly adminUrl: string;
  readonly databaseName: string;
  readonly execution: ExecutionInfo;
  /** The state the running (or last) step received. */
  readonly state?: WorkflowState;
  readonly step?: Step;
  readonly gateway?: PostgresSnapshotGateway;
  /** Settles when the step that was running has ended (its sessions were ended under it). */
  readonly inFlight: () => Promise<void>;
  readonly deadline: number;
}

class DeadlineError extends Error {
  override name = 'DeadlineExceeded';
}

async function before<T>(deadline: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError('out of time')), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long the cleanup waits for the running step to end once its sessions are gone. */
const IN_FLIGHT_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Terminates the run's sessions; returns their pids and the shadow databases they were connected to. */
async function endRunSessions(
  client: pg.Client,
  names: readonly string[],
): Promise<{ pids: number[]; shadows: string[] }> {
  const { rows } = await client.query<{ pid: number; datname: string | null }>(
    `SELECT pid, datname FROM pg_stat_activity
      WHERE application_name = ANY($1::text[]) AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    [names],
  );
  if (rows.length > 0) {
    await client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [
      rows.map((row) => row.pid),
    ]);
  }
  return {
    pids: rows.map((row) => row.pid),
    shadows: rows.map((row) => row.datname ?? '').filter((name) => name.startsWith(SHADOW_DATABASE_PREFIX)),
  };
}

async function sessionsLeft(client: pg.Client, names: readonly string[]): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE application_name = ANY($1::text[]) AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    [names],
  );
  return rows.map((row) => row.pid);
}

/**
 * Shadow databases the run created: those its sessions were connected to, and those this process created and
 * has not dropped (the engine runs in this process). Never one another process created: its name may be as
 * recent as ours, and it may be between its creation and its first connection.
 */
async function dropRunShadows(client: pg.Client, seen: Set<string>): Promise<string[]> {
  const candidates = new Set([...seen, ...shadowDatabasesOfThisProcess]);
  const dropped: string[] = [];
  for (const datname of candidates) {
    try {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)}`);
      dropped.push(datname);
    } catch {
      // In use again, or not ours to drop: left alone.
    }
  }
  return dropped;
}

async function exists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (rowCount ?? 0) > 0;
}

/** The steps after which the release may have changed the database. */
const AFTER_APPLY: readonly Step[] = [
  'apply-migrations',
  'assess-release',
  'verify-health',
  'restore-snapshot',
  'check-restore',
  'swap',
];

/**
 * Cleans up after an interrupt, within `context.deadline`, and says where things stand. Never throws:
 * what it could not do is in `unfinished`.
 */
export async function cleanUpAfterInterrupt(context: InterruptContext): Promise<InterruptionReport> {
  const { databaseName: target, execution, deadline } = context;
  const names = sessionNamesOf(execution);
  const facts: string[] = [];
  const unfinished: string[] = [];
  const adminUrl = urlWithDatabase(context.adminUrl, 'postgres');
  const shadows = new Set<string>();
  /** The running step ended after its sessions were: nothing of the run can still change the database. */
  let settled = false;
  let nextAction = `run again when ready (the database ${target} is unchanged).`;

  const attempt = async <T>(what: string, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await before(deadline, work());
    } catch (error) {
      unfinished.push(
        error instanceof DeadlineError
          ? `${what}: not done within the cleanup's time limit`
          : `${what}: ${(error as Error).message}`,
      );
      return undefined;
    }
  };

  // 1. End the run's statements on the server, let the step that ran them end, and sweep again.
  const ended = await attempt('ending the statements of this run on the server', () =>
    withClient(adminUrl, async (client) => {
      const first = await endRunSessions(client, names);
      for (const name of first.shadows) shadows.add(name);
      settled = await Promise.race([
        context.inFlight().then(() => true),
        sleep(Math.max(0, Math.min(IN_FLIGHT_WAIT_MS, deadline - Date.now()))).then(() => false),
      ]);
      let total = first.pids.length;
      for (;;) {
        const again = await endRunSessions(client, names);
        for (const name of again.shadows) shadows.add(name);
        total += again.pids.length;
        if (again.pids.length === 0 && (await sessionsLeft(client, names)).length === 0) return total;
        await sleep(100);
      }
    }),
  );
  if (ended !== undefined) {
    facts.push(
      ended > 0
        ? `ended ${ended} server session(s) of this run (application_name ${names.join(' / ')}); their open transactions were rolled back`
        : 'no statement of this run was running on the server',
    );
  } else {
    unfinished.push(
      `statements of this run may still run on the server: look in pg_stat_activity for application_name ${names.join(' or ')}`,
    );
  }

  // 2. A swap in progress: the original name must hold real data.
  const restore = context.state?.restore;
  if (restore && context.gateway && (context.step === 'swap' || context.state?.swap)) {
    const settled = await attempt(
      'settling the swap',
      () =>
        context.gateway?.settleSwap({
          originalIdentifier: restore.originalIdentifier,
          restoredIdentifier: restore.restoredIdentifier,
          asideIdentifier: restore.asideIdentifier,
        }) ?? Promise.resolve('untouched' as const),
    );
    const aside = databaseNameFor(restore.asideIdentifier);
    if (settled === 'completed') {
      facts.push(
        `the swap of the rollback was half done (${target} renamed aside); it was completed: ${target} now holds the ` +
          `data of snapshot ${restore.snapshotId}`,
      );
    } else if (settled === 'undone') {
      facts.push(
        `the swap was half done and the restored copy is missing; ${aside} was renamed back to ${target}`,
      );
    }
  }

  // 3. Shadow databases the run created.
  const dropped = await attempt('dropping the shadow databases of this run', () =>
    withClient(adminUrl, async (client) => {
      const gone = await dropRunShadows(client, shadows);
      // Those the step dropped itself as it ended count too: what matters is that none is left.
      for (const name of shadows) if (!gone.includes(name) && !(await exists(client, name))) gone.push(name);
      return gone;
    }),
  );
  if (dropped && dropped.length > 0) facts.push(`dropped the shadow database(s) ${dropped.join(', ')}`);
  if (dropped === undefined)
    unfinished.push(`shadow databases ${SHADOW_DATABASE_PREFIX}* of this run may be left`);

  // 4. Where things stand.
  await attempt('reading where things stand', () =>
    withClient(adminUrl, async (client) => {
      const mode = context.state ? modeOf(context.state) : 'migrate';
      const snapshot = databaseNameFor(
        context.state?.snapshot?.snapshotId ??
          (mode === 'backup'
            ? backupSnapshotId(target, execution)
            : preMigrationSnapshotId(target, execution)),
      );
      const hasSnapshot = await exists(client, snapshot);
      const hasTarget = await exists(client, target);
      const restored = databaseNameFor(restore?.restoredIdentifier ?? restoredIdentifier(target, execution));
      const hasRestored = await exists(client, restored);
      const aside = restore ? databaseNameFor(restore.asideIdentifier) : undefined;
      const hasAside = aside ? await exists(client, aside) : false;
      const step = context.step;
      if (!hasTarget) {
        facts.push(`no database is named ${target}`);
        nextAction = hasRestored
          ? `finish the rollback: ALTER DATABASE "${restored}" RENAME TO "${target}".`
          : aside && hasAside
            ? `rename the original back: ALTER DATABASE "${aside}" RENAME TO "${target}".`
            : 'look at the server before anything else: the next run refuses to start until this is resolved.';
        return;
      }
      if (hasAside && aside) {
        facts.push(`the failed database is kept aside at ${aside} (never dropped automatically)`);
        nextAction =
          `check ${target}: the rollback's own verification did not run. Then, when ${aside} is no longer needed: ` +
          `${dropCommand(aside)}.`;
        return;
      }
      const plan = context.state && mode === 'migrate' ? requirePlan(context.state, 'cleanup') : undefined;
      const quiet = settled && ended !== undefined;
      if (mode === 'restore') {
        if (hasRestored && quiet) {
          await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(restored)}`);
          facts.push(`the restore stopped before the swap; its copy ${restored} was dropped`);
        }
        facts.push(`${target} is unchanged`);
        nextAction = 'start the restore again when ready.';
        return;
      }
      if (mode === 'backup') {
        facts.push(
          hasSnapshot ? `the backup ${snapshot} exists and is kept` : 'no backup was taken',
          `${target} is unchanged`,
        );
        nextAction = 'start the backup again when ready.';
        return;
      }
      if (!step || !AFTER_APPLY.includes(step) || !plan) {
        if (hasSnapshot && quiet) {
          await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(snapshot)}`);
          facts.push(`nothing was applied; the snapshot ${snapshot} this run took was dropped`);
        } else {
          facts.push('nothing was applied');
        }
        facts.push(`${target} is unchanged`);
        nextAction = 'run again when ready.';
        return;
      }
      const history = await withClient(
        urlWithDatabase(context.adminUrl, target),
        async (db) => await readPrismaHistory(db),
      );
      const evidence = judgeRelease(plan, history);
      if (evidence.unchanged) {
        if (hasSnapshot && !hasRestored && quiet) {
          await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(snapshot)}`);
          facts.push(`the snapshot ${snapshot} this run took was dropped (not needed)`);
        }
        facts.push(`nothing of the release committed (read from _prisma_migrations): ${target} is unchanged`);
        nextAction = 'run again when ready.';
        return;
      }
      const keep = hasSnapshot ? ` The pre-migration snapshot ${snapshot} is kept.` : '';
      facts.push(
        `${target} holds part or all of the release: committed ${listOfNames(evidence.committed)}` +
          (evidence.uncertain.length > 0
            ? `; interrupted, possibly committed: ${listOfNames(evidence.uncertain)}`
            : '') +
          (evidence.historyLost
            ? `; _prisma_migrations no longer records ${evidence.historyLost.length} migration(s) applied before it`
            : '') +
          `.${keep}`,
      );
      if (hasRestored) {
        facts.push(`the restored copy ${restored} (the snapshot's data) exists, not swapped in`);
        nextAction =
          `finish the rollback by hand: ALTER DATABASE "${target}" RENAME TO "${target}-aside"; ` +
          `ALTER DATABASE "${restored}" RENAME TO "${target}". Or, if ${target} is fine, ${dropCommand(restored)}.`;
      } else if (hasSnapshot) {
        nextAction =
          evidence.committed.length === plan.pending.length && evidence.uncertain.length === 0
            ? `check ${target} (the release is applied; its verification did not finish). To undo it, restore ` +
              `the snapshot: ALTER DATABASE "${target}" RENAME TO "${target}-aside"; CREATE DATABASE "${target}" TEMPLATE "${snapshot}".`
            : `restore the snapshot: ALTER DATABASE "${target}" RENAME TO "${target}-aside"; CREATE DATABASE ` +
              `"${target}" TEMPLATE "${snapshot}". Or repair ${target} by hand and resolve the interrupted migration ` +
              `(prisma migrate resolve).`;
      } else {
        nextAction = `repair ${target} by hand and resolve the interrupted migration (prisma migrate resolve).`;
      }
    }),
  );
  return { ...(context.step ? { step: context.step } : {}), facts, nextAction, unfinished };
}

/**
 * Turns SIGINT/SIGTERM into an abort: the first signal aborts the returned signal (the run cleans up); a
 * second one calls `onSecond` (which should exit at once). `dispose` removes the handlers.
 */
export function watchSignals(handlers: {
  onFirst: (signal: NodeJS.Signals) => void;
  onSecond: (signal: NodeJS.Signals) => void;
}): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const listener = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      handlers.onSecond(signal);
      return;
    }
    handlers.onFirst(signal);
    controller.abort(signal);
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    },
  };
}
