/**
 * In-memory fakes of the ports, for the step cores' unit tests. They behave like the real adapters
 * (statuses advance over describes, swaps take two steps) and record what was asked of them.
 */

import { checksumOf } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import {
  type AppliedMigration,
  type ExecutionInfo,
  type HealthCheckResult,
  type Plan,
  type SnapshotQuota,
  snapshotKindOf,
  TagKeys,
  type WorkflowState,
} from '../../lambdas/shared/contract/contract.js';
import { RestoreFailedError, SnapshotFailedError } from '../../lambdas/shared/contract/errors.js';
import type {
  ApplyOptions,
  ApplyOutcome,
  Clock,
  CreateSnapshotRequest,
  HealthExpectation,
  HealthProbe,
  ManagedSnapshot,
  Migration,
  MigrationBundle,
  MigrationEngine,
  MigrationSource,
  ReleaseInspector,
  RestoreDescription,
  RestoreRequest,
  SnapshotDescription,
  SnapshotGateway,
  SwapRequest,
  SwapStatus,
  TargetDescription,
} from '../../lambdas/shared/contract/ports.js';
import { createdBy, creatorPhrase, withCreatorTag } from '../../lambdas/shared/domain/execution-tag.js';
import type { SchemaCatalog } from '../../lambdas/shared/domain/lint/rules.js';
import { DEFAULT_SETTINGS, type WorkflowSettings } from '../../lambdas/shared/runtime/settings.js';

export function migration(name: string, sql = `CREATE TABLE "${name}" (id int);`): Migration {
  return { name, sql, checksum: checksumOf(sql) };
}

export class FakeMigrationSource implements MigrationSource {
  constructor(readonly migrations: Migration[]) {}
  async load(): Promise<MigrationBundle> {
    return { directory: '/fake/migrations', migrations: this.migrations, provider: 'postgresql' };
  }
}

export function appliedRow(m: Migration, overrides: Partial<AppliedMigration> = {}): AppliedMigration {
  return {
    name: m.name,
    checksum: m.checksum,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    rolledBackAt: null,
    appliedStepsCount: 1,
    logs: null,
    ...overrides,
  };
}

export class FakeMigrationEngine implements MigrationEngine {
  history: AppliedMigration[] = [];
  applyCalls: { bundle: MigrationBundle; options: ApplyOptions }[] = [];
  failWith?: Error;
  closed = 0;

  async readHistory(): Promise<readonly AppliedMigration[]> {
    return this.history;
  }

  /** The database's tables before the release, as the lint reads them (`public.<table>`). */
  catalog: SchemaCatalog = { schema: 'public', tables: [], notNullChecked: [] };

  async readSchemaCatalog(): Promise<SchemaCatalog> {
    return this.catalog;
  }

  async applyPending(bundle: MigrationBundle, options: ApplyOptions): Promise<ApplyOutcome> {
    this.applyCalls.push({ bundle, options });
    if (this.failWith) throw this.failWith;
    const done = new Set(this.history.map((row) => row.name));
    const applied = bundle.migrations.filter((m) => !done.has(m.name));
    this.history.push(...applied.map((m) => appliedRow(m)));
    return { applied: applied.map((m) => m.name), transactionMode: options.transactionMode };
  }

  async close(): Promise<void> {
    this.closed += 1;
  }
}

/**
 * Reads the history of a `FakeMigrationEngine` (the database both look at), records the sessions it was asked
 * to end and marks rows rolled back as the real adapter does.
 */
export class FakeReleaseInspector implements ReleaseInspector {
  ended: string[] = [];
  /** When set, every call fails with it (the database is unreachable). */
  failWith?: Error;

  constructor(readonly engine: FakeMigrationEngine) {}

  async endSessions(applicationName: string): Promise<number> {
    if (this.failWith) throw this.failWith;
    this.ended.push(applicationName);
    return 1;
  }

  async readHistory(): Promise<readonly AppliedMigration[]> {
    if (this.failWith) throw this.failWith;
    return [...this.engine.history];
  }

  async markRolledBack(migrations: readonly string[]): Promise<void> {
    const names = new Set(migrations);
    this.engine.history = this.engine.history.map((row) =>
      names.has(row.name) && row.finishedAt === null && row.rolledBackAt === null
        ? { ...row, rolledBackAt: '2025-01-01T00:00:02.000Z' }
        : row,
    );
  }
}

export class FakeClock implements Clock {
  constructor(private current = new Date('2025-03-01T12:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

interface FakeDatabase {
  status: string;
  describesUntilAvailable: number;
  tags: Record<string, string>;
  source?: string;
  createdAt?: string;
}

/** A gateway whose snapshots and restores become available after `steps` describes. */
export class InMemorySnapshotGateway implements SnapshotGateway {
  readonly snapshots = new Map<string, FakeDatabase>();
  readonly databases = new Map<string, FakeDatabase>();
  targetStatus = 'available';
  failSnapshots = false;
  calls: string[] = [];
  /** The account's manual snapshot quota; undefined: none. */
  quota: SnapshotQuota | undefined;
  /** When snapshots are taken. */
  now: () => Date = () => new Date();

  constructor(
    readonly targetIdentifier: string,
    private readonly steps = 2,
  ) {
    this.databases.set(targetIdentifier, { status: 'available', describesUntilAvailable: 0, tags: {} });
  }

  async describeTarget(): Promise<TargetDescription> {
    this.calls.push('describeTarget');
    return {
      identifier: this.targetIdentifier,
      status: this.targetStatus,
      available: this.targetStatus === 'available',
      engine: 'postgres',
    };
  }

  async createSnapshot(request: CreateSnapshotRequest): Promise<SnapshotDescription> {
    this.calls.push(`createSnapshot ${request.snapshotId}`);
    const existing = this.snapshots.get(request.snapshotId);
    if (existing && !createdBy(existing.tags, request.executionId)) {
      throw new SnapshotFailedError(
        `Snapshot ${request.snapshotId} was taken by ${creatorPhrase(existing.tags)}, not by ${request.executionId}.`,
      );
    }
    if (!existing) {
      this.snapshots.set(request.snapshotId, {
        status: 'creating',
        describesUntilAvailable: this.steps,
        tags: withCreatorTag(request.tags, request.executionId),
        source: this.targetIdentifier,
        createdAt: this.now().toISOString(),
      });
    }
    return this.snapshotDescription(request.snapshotId);
  }

  async listManagedSnapshots(): Promise<readonly ManagedSnapshot[]> {
    this.calls.push('listManagedSnapshots');
    return [...this.snapshots.entries()]
      .filter(
        ([, snapshot]) =>
          snapshot.tags[TagKeys.managedBy] !== undefined &&
          snapshot.tags[TagKeys.source] === this.targetIdentifier,
      )
      .map(([id, snapshot]) => ({
        snapshotId: id,
        name: id,
        tags: snapshot.tags,
        kind: snapshotKindOf(snapshot.tags[TagKeys.kind]),
        status: snapshot.status,
        ...(snapshot.createdAt ? { createdAt: snapshot.createdAt } : {}),
      }))
      .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  }

  async deleteSnapshot(snapshotId: string): Promise<boolean> {
    this.calls.push(`deleteSnapshot ${snapshotId}`);
    const snapshot = this.snapshots.get(snapshotId);
    if (!snapshot?.tags[TagKeys.managedBy] || snapshot.tags[TagKeys.source] !== this.targetIdentifier)
      return false;
    return this.snapshots.delete(snapshotId);
  }

  async snapshotQuota(): Promise<SnapshotQuota | undefined> {
    this.calls.push('snapshotQuota');
    return this.quota;
  }

  private snapshotDescription(id: string): SnapshotDescription {
    const snapshot = this.snapshots.get(id);
    if (!snapshot) throw new Error(`no snapshot ${id}`);
    const status =
      snapshot.status === 'available' ? 'available' : snapshot.status === 'failed' ? 'failed' : 'creating';
    return {
      snapshotId: id,
      sourceIdentifier: snapshot.source ?? '',
      status,
      rawStatus: snapshot.status,
      tags: snapshot.tags,
    };
  }

  async describeSnapshot(snapshotId: string): Promise<SnapshotDescription | undefined> {
    this.calls.push(`describeSnapshot ${snapshotId}`);
    const snapshot = this.snapshots.get(snapshotId);
    if (!snapshot) return undefined;
    if (this.failSnapshots) snapshot.status = 'failed';
    else if (snapshot.status === 'creating' && --snapshot.describesUntilAvailable <= 0)
      snapshot.status = 'available';
    return this.snapshotDescription(snapshotId);
  }

  async restoreSnapshot(request: RestoreRequest): Promise<RestoreDescription> {
    this.calls.push(`restoreSnapshot ${request.snapshotId} as ${request.restoredIdentifier}`);
    const existing = this.databases.get(request.restoredIdentifier);
    if (existing && !createdBy(existing.tags, request.executionId)) {
      throw new RestoreFailedError(
        `${request.restoredIdentifier} was restored by ${creatorPhrase(existing.tags)}, not by ${request.executionId}.`,
      );
    }
    if (!existing) {
      this.databases.set(request.restoredIdentifier, {
        status: 'creating',
        describesUntilAvailable: this.steps,
        tags: withCreatorTag(request.tags, request.executionId),
        source: request.snapshotId,
      });
    }
    return { identifier: request.restoredIdentifier, status: 'restoring', rawStatus: 'creating' };
  }

  async describeRestore(identifier: string): Promise<RestoreDescription | undefined> {
    this.calls.push(`describeRestore ${identifier}`);
    const db = this.databases.get(identifier);
    if (!db) return undefined;
    if (db.status === 'creating' && --db.describesUntilAvailable <= 0) db.status = 'available';
    return {
      identifier,
      status: db.status === 'available' ? 'available' : 'restoring',
      rawStatus: db.status,
    };
  }

  async swap(request: SwapRequest): Promise<SwapStatus> {
    this.calls.push('swap');
    const { originalIdentifier: original, restoredIdentifier: restored, asideIdentifier: aside } = request;
    if (this.databases.has(original) && this.databases.has(restored) && !this.databases.has(aside)) {
      this.databases.set(aside, this.databases.get(original) as FakeDatabase);
      this.databases.delete(original);
      return { phase: 'original-renamed', complete: false };
    }
    if (!this.databases.has(original) && this.databases.has(restored)) {
      this.databases.set(original, this.databases.get(restored) as FakeDatabase);
      this.databases.delete(restored);
      return { phase: 'complete', complete: true };
    }
    return { phase: 'complete', complete: true };
  }
}

export class FakeHealthProbe implements HealthProbe {
  expectations: HealthExpectation[] = [];
  /** `healthy` decides the history check; `others` are reported as given (user checks, drift). */
  constructor(
    public healthy = true,
    public others: HealthCheckResult[] = [],
  ) {}
  async check(expectation: HealthExpectation) {
    this.expectations.push(expectation);
    const checks: HealthCheckResult[] = [
      {
        name: 'history complete',
        kind: 'history',
        ok: this.healthy,
        detail: this.healthy ? 'ok' : 'not finished: x',
      },
      ...this.others,
    ];
    return { healthy: checks.every((check) => check.ok), checks };
  }
}

export const testSettings: WorkflowSettings = {
  ...DEFAULT_SETTINGS,
  targetIdentifier: 'orders-db',
  managedBy: 'test-stack',
  initialPollSeconds: 10,
  maxPollSeconds: 60,
  snapshotTimeoutSeconds: 600,
  restoreTimeoutSeconds: 600,
};

export const testExecution: ExecutionInfo = {
  id: 'arn:aws:states:eu-west-1:123456789012:execution:orchestrator:exec-1',
  name: 'exec-1',
  startedAt: '2025-03-01T12:00:00.000Z',
};

export function stateWith(overrides: Partial<WorkflowState> = {}): WorkflowState {
  return { input: {}, execution: testExecution, ...overrides };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection<E extends Error = Error>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/**
 * A plan of database `orders` (`orders-db`) with `20250101000000_init` applied and `20250102000000_add_orders`,
 * `20250103000000_add_index` pending (the names of `migration(...)` fixtures the unit tests use).
 */
export const testPlan: Plan = {
  mode: 'migrate',
  databaseName: 'orders',
  targetIdentifier: 'orders-db',
  totalMigrations: 3,
  applied: ['20250101000000_init'],
  pending: ['20250102000000_add_orders', '20250103000000_add_index'],
  edited: [],
  unknownApplied: [],
  transactionMode: 'release',
  lockedTables: [],
  snapshotRequired: true,
  dryRun: false,
  proceed: true,
  warnings: [],
};
