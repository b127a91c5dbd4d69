/**
 * Snapshots for plain PostgreSQL (the local runner, and teams not on RDS): a snapshot is a database cloned
 * with `CREATE DATABASE ... TEMPLATE`, a restore is a clone of the snapshot, and the swap renames databases,
 * the same shape as the RDS flow. Metadata (source, tags) lives in the database comment; its execution tag
 * says which execution created a snapshot or a restored copy, and only that execution adopts it on a retry.
 *
 * Cloning needs no other session on the source. Sessions of the application on the target are waited for
 * (`busyTimeoutMs`) and, only when `terminateSessions` is set, ended.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { type SwapPhase, snapshotKindOf, TagKeys } from '../../contract/contract.js';
import { RestoreFailedError, SnapshotFailedError, SwapFailedError } from '../../contract/errors.js';
import type {
  Clock,
  CreateSnapshotRequest,
  ManagedSnapshot,
  RestoreDescription,
  RestoreRequest,
  SnapshotDescription,
  SnapshotGateway,
  SwapRequest,
  SwapStatus,
  TargetDescription,
} from '../../contract/ports.js';
import { createdBy, creatorOf, creatorPhrase, withCreatorTag } from '../../domain/execution-tag.js';
import { asideIdentifier } from '../../domain/identifiers.js';
import { urlWithDatabase, withClient } from './connection.js';

const { escapeIdentifier, escapeLiteral } = pg;

/**
 * From this size on, a clone copies files (`STRATEGY = FILE_COPY`) instead of writing the source to the WAL.
 * Measured on PostgreSQL 15 with fsync on: at 80 MB WAL_LOG was faster, at 300 MB even, at 900 MB FILE_COPY took
 * 4.2-6.7 s against 7.2-11.4 s (PostgreSQL's documentation says the same: WAL_LOG for small templates).
 */
export const FILE_COPY_FROM_BYTES = 256 * 1024 * 1024;

export interface PostgresSnapshotGatewayOptions {
  /** A URL of the server with CREATEDB rights (any database; `postgres` is used for admin work). */
  readonly serverUrl: string;
  /** The database to protect. */
  readonly databaseName: string;
  /** How long to wait for other sessions to leave a database before cloning or renaming it. @default 10 s */
  readonly busyTimeoutMs?: number;
  /** End other sessions (the application's) on a database that must be cloned or renamed. @default false */
  readonly terminateSessions?: boolean;
  /**
   * The `managed-by` tag value of this orchestrator: only snapshots carrying it are listed, deleted or
   * restored as managed ones. @default - any `managed-by` value
   */
  readonly managedBy?: string;
  /** The time snapshots are recorded as taken at (a test clock simulates a year of backups). @default system */
  readonly clock?: Clock;
  /**
   * From this database size on (PostgreSQL 15 and later), snapshots and restores copy files
   * (`STRATEGY = FILE_COPY`) instead of writing the source to the WAL. @default FILE_COPY_FROM_BYTES (256 MiB)
   */
  readonly fileCopyFromBytes?: number;
}

const MAX_NAME = 63;

interface Metadata {
  readonly kind: 'snapshot' | 'restore';
  readonly source: string;
  readonly id: string;
  readonly tags: Record<string, string>;
  /** When the gateway created it (ISO 8601); absent in metadata written by earlier versions. */
  readonly createdAt?: string;
  /** How the execution that took a snapshot ended (`recordOutcome`); absent while it runs or if it died. */
  readonly outcome?: string;
  /** How the database was cloned (`cloneDatabase`); absent in metadata written by earlier versions. */
  readonly strategy?: CloneStrategy;
}

/** How `CREATE DATABASE ... TEMPLATE` copied the source: its strategy, and whether PostgreSQL 18 cloned the files. */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY' | 'FILE_COPY (clone)';

/** A database the local flow renamed aside (`<target>-rolledback-<time>`): kept, never dropped automatically. */
export interface KeptAsideDatabase {
  readonly name: string;
  /** The SQL that drops it, once nobody needs it. */
  readonly dropCommand: string;
}

/** What an execution that never finished left behind on the server, and the one thing to do about it. */
export interface UnfinishedExecution {
  /** What exists, one fact a line. */
  readonly found: readonly string[];
  /** The one next action (SQL included). */
  readonly nextAction: string;
}

/** The outcome the runner records on the snapshot of a successful release (what retention prunes). */
export const SUCCEEDED_OUTCOME = 'succeeded';

/** `DROP DATABASE "<name>"`. */
export function dropCommand(name: string): string {
  return `DROP DATABASE ${escapeIdentifier(name)}`;
}

function renameCommand(from: string, to: string): string {
  return `ALTER DATABASE ${escapeIdentifier(from)} RENAME TO ${escapeIdentifier(to)}`;
}

/**
 * What to do about a clone (`CREATE DATABASE ... TEMPLATE`) that failed, by PostgreSQL's error code: the causes a
 * user can fix, named with the fix; empty for any other.
 */
export function cloneFailureHint(error: unknown, role: string | undefined): string {
  switch ((error as { code?: string } | undefined)?.code) {
    case '42501':
      return (
        ` Local snapshots and restores are databases cloned on the same server, and the role ${role ?? 'connecting'} ` +
        `may not create databases: grant it (ALTER ROLE ${escapeIdentifier(role ?? '<role>')} CREATEDB), or set ` +
        'DATABASE_URL to a role that may and owns the database.'
      );
    case '53100':
      return " The server's disk is full: a clone needs about the database's size in free space.";
    default:
      return '';
  }
}

/** The `<time>` of `<target>-rolledback-<time>` names (`compactTimestamp`). */
const ASIDE_TIME = /-rolledback-(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z/;

/** A PostgreSQL database name (at most 63 bytes) for an identifier of the workflow. */
export function databaseNameFor(identifier: string): string {
  if (Buffer.byteLength(identifier) <= MAX_NAME) return identifier;
  const hash = createHash('sha256').update(identifier).digest('hex').slice(0, 8);
  return `${identifier.slice(0, MAX_NAME - 9)}-${hash}`;
}

export class PostgresSnapshotGateway implements SnapshotGateway {
  readonly targetIdentifier: string;
  private readonly serverUrl: string;
  private readonly busyTimeoutMs: number;
  private readonly terminateSessions: boolean;
  private readonly managedBy: string | undefined;
  private readonly clock: Clock;
  private readonly fileCopyFromBytes: number;

  constructor(options: PostgresSnapshotGatewayOptions) {
    this.targetIdentifier = options.databaseName;
    this.serverUrl = urlWithDatabase(options.serverUrl, 'postgres');
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    this.terminateSessions = options.terminateSessions ?? false;
    this.managedBy = options.managedBy;
    this.clock = options.clock ?? { now: () => new Date() };
    this.fileCopyFromBytes = options.fileCopyFromBytes ?? FILE_COPY_FROM_BYTES;
  }

  private admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    return withClient(this.serverUrl, fn);
  }

  private async exists(client: pg.Client, name: string): Promise<boolean> {
    const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return (result.rowCount ?? 0) > 0;
  }

  private async metadataOf(client: pg.Client, name: string): Promise<Metadata | undefined> {
    const result = await client.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [name],
    );
    const comment = result.rows[0]?.comment;
    if (!comment) return undefined;
    try {
      return JSON.parse(comment) as Metadata;
    } catch {
      return undefined;
    }
  }

  /**
   * `CREATE DATABASE name TEMPLATE source`, with the strategy that is faster for the source's size. PostgreSQL 15
   * made `WAL_LOG` the default: every block of the source is written to the WAL, so a clone costs about twice
   * the database's size in writes. `FILE_COPY` (the only strategy before 15) copies the files after a checkpoint:
   * far faster for a large database, slower for a small one, where the checkpoints cost more than logging a few
   * megabytes (bench/README.md, snapshot and restore). On PostgreSQL 18, `FILE_COPY` clones the files when the
   * server can (`file_copy_method = clone`: `copy_file_range`, which shares the blocks on a file system with
   * reflinks such as XFS or Btrfs, 0.16 s for 905 MB measured against 1-4 s copied, and copies in the kernel
   * elsewhere). The clone's comment is `metadata`, with the strategy used.
   */
  private async cloneDatabase(
    client: pg.Client,
    name: string,
    source: string,
    metadata: Metadata,
  ): Promise<void> {
    const { rows } = await client.query<{ version: number; bytes: string }>(
      "SELECT current_setting('server_version_num')::int AS version, pg_database_size($1) AS bytes",
      [source],
    );
    const version = rows[0]?.version ?? 0;
    const fileCopy = version >= 150000 && Number(rows[0]?.bytes ?? 0) >= this.fileCopyFromBytes;
    // A server built without `copy_file_range` refuses the value: its files are then copied.
    const clone =
      fileCopy &&
      version >= 180000 &&
      (await client.query('SET file_copy_method = clone').then(
        () => true,
        () => false,
      ));
    try {
      await client.query(
        `CREATE DATABASE ${escapeIdentifier(name)} TEMPLATE ${escapeIdentifier(source)}` +
          (fileCopy ? ' STRATEGY = FILE_COPY' : ''),
      );
    } finally {
      if (clone) await client.query('RESET file_copy_method').catch(() => undefined);
    }
    const strategy: CloneStrategy =
      version < 150000 ? 'FILE_COPY' : clone ? 'FILE_COPY (clone)' : fileCopy ? 'FILE_COPY' : 'WAL_LOG';
    await client.query(
      `COMMENT ON DATABASE ${escapeIdentifier(name)} IS ${escapeLiteral(JSON.stringify({ ...metadata, strategy }))}`,
    );
  }

  /** Waits until no other session uses `name` (ending them when allowed); returns how many remain. */
  private async drain(client: pg.Client, name: string): Promise<number> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (;;) {
      if (this.terminateSessions) {
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [name],
        );
      }
      const result = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      const sessions = Number(result.rows[0]?.n ?? 0);
      if (sessions === 0 || Date.now() >= deadline) return sessions;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private busyMessage(name: string, sessions: number, what: string): string {
    return (
      `Database ${name} still has ${sessions} other session(s) after ${this.busyTimeoutMs} ms, so it cannot be ` +
      `${what}. Stop the application's connections, or allow ending them (terminateSessions / --terminate-sessions).`
    );
  }

  async describeTarget(): Promise<TargetDescription> {
    return await this.admin(async (client) => {
      const result = await client.query<{ datallowconn: boolean }>(
        'SELECT datallowconn FROM pg_database WHERE datname = $1',
        [this.targetIdentifier],
      );
      const row = result.rows[0];
      const status = !row ? 'not-found' : row.datallowconn ? 'available' : 'not-accepting-connections';
      return {
        identifier: this.targetIdentifier,
        status,
        available: status === 'available',
        engine: 'postgres',
      };
    });
  }

  async createSnapshot(request: CreateSnapshotRequest): Promise<SnapshotDescription> {
    const name = databaseNameFor(request.snapshotId);
    return await this.admin(async (client) => {
      if (await this.exists(client, name)) {
        const metadata = await this.metadataOf(client, name);
        if (metadata?.kind !== 'snapshot' || metadata.source !== this.targetIdentifier) {
          throw new SnapshotFailedError(
            `A database named ${name} already exists and is not a snapshot of ${this.targetIdentifier}. ` +
              'Rename or drop it, then start the release again.',
            { details: { snapshotId: request.snapshotId, identifier: this.targetIdentifier } },
          );
        }
        if (!createdBy(metadata.tags, request.executionId)) {
          throw new SnapshotFailedError(
            `Snapshot ${request.snapshotId} (database ${name}) of ${this.targetIdentifier} already exists but was taken by ` +
              `${creatorPhrase(metadata.tags)}, not by this execution ${request.executionId}: it is not adopted, since it may ` +
              `hold other data than ${this.targetIdentifier} has now. Nothing was applied and the database was not touched. ` +
              `Start the release again under a new execution name (or drop ${name} if nobody needs it).`,
            {
              details: {
                snapshotId: request.snapshotId,
                identifier: this.targetIdentifier,
                executionId: request.executionId,
                createdBy: creatorOf(metadata.tags),
              },
            },
          );
        }
        return this.snapshotDescription(request.snapshotId, metadata);
      }
      const sessions = await this.drain(client, this.targetIdentifier);
      if (sessions > 0) {
        throw new SnapshotFailedError(
          this.busyMessage(this.targetIdentifier, sessions, 'cloned into a snapshot'),
        );
      }
      const metadata: Metadata = {
        kind: 'snapshot',
        source: this.targetIdentifier,
        id: request.snapshotId,
        tags: withCreatorTag(request.tags, request.executionId),
        createdAt: this.clock.now().toISOString(),
      };
      try {
        await this.cloneDatabase(client, name, this.targetIdentifier, metadata);
      } catch (error) {
        throw new SnapshotFailedError(
          `Cloning ${this.targetIdentifier} into snapshot ${name} failed: ${(error as Error).message}.` +
            `${cloneFailureHint(error, client.user)} Nothing was applied.`,
          { cause: error },
        );
      }
      return this.snapshotDescription(request.snapshotId, metadata);
    });
  }

  private snapshotDescription(snapshotId: string, metadata: Metadata): SnapshotDescription {
    return {
      snapshotId,
      sourceIdentifier: metadata.source,
      status: 'available',
      rawStatus: 'available',
      tags: metadata.tags,
    };
  }

  async describeSnapshot(snapshotId: string): Promise<SnapshotDescription | undefined> {
    const name = databaseNameFor(snapshotId);
    return await this.admin(async (client) => {
      const metadata = await this.metadataOf(client, name);
      if (metadata?.kind !== 'snapshot') return undefined;
      return this.snapshotDescription(snapshotId, metadata);
    });
  }

  async restoreSnapshot(request: RestoreRequest): Promise<RestoreDescription> {
    const snapshot = databaseNameFor(request.snapshotId);
    const restored = databaseNameFor(request.restoredIdentifier);
    return await this.admin(async (client) => {
      const snapshotMetadata = await this.metadataOf(client, snapshot);
      if (snapshotMetadata?.kind !== 'snapshot') {
        throw new RestoreFailedError(
          `Snapshot ${request.snapshotId} (database ${snapshot}) does not exist; nothing can be restored. ` +
            `${request.originalIdentifier} is untouched.`,
        );
      }
      if (await this.exists(client, restored)) {
        const metadata = await this.metadataOf(client, restored);
        if (
          metadata?.kind === 'restore' &&
          metadata.source === request.snapshotId &&
          createdBy(metadata.tags, request.executionId)
        ) {
          return { identifier: request.restoredIdentifier, status: 'available', rawStatus: 'available' };
        }
        const origin =
          metadata?.kind === 'restore'
            ? metadata.source === request.snapshotId
              ? ` (it was restored from it by ${creatorPhrase(metadata.tags)})`
              : ` (it was restored from ${metadata.source})`
            : '';
        throw new RestoreFailedError(
          `A database named ${restored} already exists and was not restored from snapshot ${request.snapshotId} by this ` +
            `execution ${request.executionId}${origin}. Rename or drop it, then retry the rollback. ${request.originalIdentifier} is untouched.`,
          {
            details: {
              snapshotId: request.snapshotId,
              restoredIdentifier: request.restoredIdentifier,
              executionId: request.executionId,
              createdBy: metadata ? creatorOf(metadata.tags) : undefined,
            },
          },
        );
      }
      const sessions = await this.drain(client, snapshot);
      if (sessions > 0) {
        throw new RestoreFailedError(this.busyMessage(snapshot, sessions, 'cloned'));
      }
      const metadata: Metadata = {
        kind: 'restore',
        source: request.snapshotId,
        id: request.restoredIdentifier,
        tags: withCreatorTag(request.tags, request.executionId),
        createdAt: new Date().toISOString(),
      };
      try {
        await this.cloneDatabase(client, restored, snapshot, metadata);
      } catch (error) {
        throw new RestoreFailedError(
          `Restoring snapshot ${snapshot} as ${restored} failed: ${(error as Error).message}.` +
            `${cloneFailureHint(error, client.user)} ${request.originalIdentifier} is untouched.`,
          { cause: error },
        );
      }
      return { identifier: request.restoredIdentifier, status: 'available', rawStatus: 'available' };
    });
  }

  async describeRestore(restoredIdentifier: string): Promise<RestoreDescription | undefined> {
    const name = databaseNameFor(restoredIdentifier);
    return await this.admin(async (client) =>
      (await this.exists(client, name))
        ? { identifier: restoredIdentifier, status: 'available' as const, rawStatus: 'available' }
        : undefined,
    );
  }

  async swap(request: SwapRequest): Promise<SwapStatus> {
    const original = request.originalIdentifier;
    const restored = databaseNameFor(request.restoredIdentifier);
    const aside = databaseNameFor(request.asideIdentifier);
    return await this.admin(async (client) => {
      const has = {
        original: await this.exists(client, original),
        restored: await this.exists(client, restored),
        aside: await this.exists(client, aside),
      };
      const state = `(${original}: ${has.original ? 'exists' : 'absent'}, ${restored}: ${
        has.restored ? 'exists' : 'absent'
      }, ${aside}: ${has.aside ? 'exists' : 'absent'})`;
      const rename = async (from: string, to: string, phase: SwapPhase, recovery: string) => {
        const sessions = await this.drain(client, from);
        if (sessions > 0)
          throw new SwapFailedError(`${this.busyMessage(from, sessions, 'renamed')} ${state}`);
        try {
          await client.query(`ALTER DATABASE ${escapeIdentifier(from)} RENAME TO ${escapeIdentifier(to)}`);
        } catch (error) {
          throw new SwapFailedError(
            `Renaming ${from} to ${to} failed (${(error as Error).message}) during phase ${phase}. ${state} ${recovery}`,
            { cause: error },
          );
        }
      };
      if (has.original && has.restored && !has.aside) {
        await rename(
          original,
          aside,
          'not-started',
          `${original} is untouched; retry the rollback, or rename ${restored} in by hand after moving ${original} aside.`,
        );
        return { phase: 'original-renamed', complete: false };
      }
      if (!has.original && has.restored && has.aside) {
        await rename(
          restored,
          original,
          'original-renamed',
          `To undo, rename ${aside} back to ${original}: ALTER DATABASE "${aside}" RENAME TO "${original}".`,
        );
        return { phase: 'complete', complete: true };
      }
      if (has.original && !has.restored && has.aside) {
        return { phase: 'complete', complete: true };
      }
      throw new SwapFailedError(
        `Cannot swap ${restored} into place as ${original}: unexpected state ${state}. ` +
          (has.aside
            ? `The original is at ${aside}; rename the restored copy to ${original} by hand.`
            : `Nothing was renamed; ${original} is as it was.`),
      );
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Retention and leftovers. Only what this gateway made for this target, proven by the metadata it writes
  // in the database comment, is ever dropped; a database without that metadata is never touched.

  /** Every database of the server with the comment metadata this gateway writes, oldest first. */
  private async managed(client: pg.Client): Promise<{ name: string; metadata: Metadata }[]> {
    const result = await client.query<{ datname: string; comment: string | null }>(
      `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database
        WHERE shobj_description(oid, 'pg_database') LIKE '{%' ORDER BY oid`,
    );
    const found: { name: string; metadata: Metadata }[] = [];
    for (const row of result.rows) {
      try {
        const metadata = JSON.parse(row.comment ?? '') as Metadata;
        if ((metadata.kind === 'snapshot' || metadata.kind === 'restore') && typeof metadata.id === 'string')
          found.push({ name: row.datname, metadata });
      } catch {
        // Someone else's comment: not ours.
      }
    }
    return found;
  }

  private isOwnSnapshot(name: string, metadata: Metadata): boolean {
    const managedBy = metadata.tags[TagKeys.managedBy];
    return (
      metadata.kind === 'snapshot' &&
      metadata.source === this.targetIdentifier &&
      name === databaseNameFor(metadata.id) &&
      managedBy !== undefined &&
      (this.managedBy === undefined || managedBy === this.managedBy)
    );
  }

  /** The snapshots this tool took of the target (backups and pre-migration ones), oldest first. */
  async listManagedSnapshots(): Promise<readonly ManagedSnapshot[]> {
    return await this.admin(async (client) => {
      const own = (await this.managed(client)).filter(({ name, metadata }) =>
        this.isOwnSnapshot(name, metadata),
      );
      const sizes = await client.query<{ datname: string; bytes: string }>(
        'SELECT datname, pg_database_size(oid) AS bytes FROM pg_database WHERE datname = ANY($1)',
        [own.map(({ name }) => name)],
      );
      const bytes = new Map(sizes.rows.map((row) => [row.datname, Number(row.bytes)]));
      return own
        .map(({ name, metadata }) => ({
          snapshotId: metadata.id,
          name,
          tags: metadata.tags,
          kind: snapshotKindOf(metadata.tags[TagKeys.kind]),
          status: 'available',
          ...(bytes.has(name) ? { sizeGiB: (bytes.get(name) ?? 0) / 2 ** 30 } : {}),
          ...(metadata.createdAt ? { createdAt: metadata.createdAt } : {}),
          ...(metadata.outcome ? { outcome: metadata.outcome } : {}),
        }))
        .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
    });
  }

  /** Plain PostgreSQL has no snapshot quota. */
  async snapshotQuota(): Promise<undefined> {
    return undefined;
  }

  /**
   * Drops snapshot `snapshotId` when it is a snapshot this tool took of the target (its metadata says so);
   * returns false, dropping nothing, for anything else (absent, another target's, no metadata).
   */
  async deleteSnapshot(snapshotId: string): Promise<boolean> {
    const name = databaseNameFor(snapshotId);
    return await this.admin(async (client) => {
      const metadata = await this.metadataOf(client, name);
      if (!metadata || metadata.id !== snapshotId || !this.isOwnSnapshot(name, metadata)) return false;
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)}`);
      return true;
    });
  }

  /** Records how the execution that took snapshot `snapshotId` ended (retention prunes only successes). */
  async recordOutcome(snapshotId: string, outcome: string): Promise<void> {
    const name = databaseNameFor(snapshotId);
    await this.admin(async (client) => {
      const metadata = await this.metadataOf(client, name);
      if (!metadata || metadata.id !== snapshotId || !this.isOwnSnapshot(name, metadata)) return;
      await client.query(
        `COMMENT ON DATABASE ${escapeIdentifier(name)} IS ${escapeLiteral(JSON.stringify({ ...metadata, outcome }))}`,
      );
    });
  }

  /**
   * Drops the snapshots of successful releases of the target beyond the newest `keep` (snapshots of any
   * other outcome, or without one, are kept: they may be the only copy of the data before a failed release).
   * Returns the ids it dropped.
   */
  async pruneSnapshots(keep: number): Promise<string[]> {
    const successes = (await this.listManagedSnapshots()).filter(
      (s) => s.kind === 'pre-migration' && s.outcome === SUCCEEDED_OUTCOME,
    );
    const dropped: string[] = [];
    for (const snapshot of successes.slice(0, Math.max(0, successes.length - Math.max(0, keep)))) {
      if (await this.deleteSnapshot(snapshot.snapshotId)) dropped.push(snapshot.snapshotId);
    }
    return dropped;
  }

  /**
   * Drops the copy `restoredIdentifier` that execution `executionId` restored and never swapped in, while the
   * target still exists under its name: what a requested restore that failed before its swap leaves (the copy holds
   * nothing the snapshot does not). Returns the dropped database's name; anything else (no such copy, another
   * execution's, or the target missing, where the copy may be the only way back) is left as it is.
   */
  async dropUnswappedCopy(restoredIdentifier: string, executionId: string): Promise<string | undefined> {
    const name = databaseNameFor(restoredIdentifier);
    return await this.admin(async (client) => {
      const metadata = await this.metadataOf(client, name);
      if (metadata?.kind !== 'restore' || metadata.id !== restoredIdentifier) return undefined;
      if (!createdBy(metadata.tags, executionId) || !(await this.exists(client, this.targetIdentifier))) {
        return undefined;
      }
      await client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)}`);
      return name;
    });
  }

  /** The target's databases kept aside by rollbacks (`<target>-rolledback-<time>`), oldest first. */
  async listKeptAside(): Promise<readonly KeptAsideDatabase[]> {
    return await this.admin(async (client) => this.keptAside(client));
  }

  private async keptAside(client: pg.Client): Promise<KeptAsideDatabase[]> {
    const result = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE '%-rolledback-%' ORDER BY datname`,
    );
    return result.rows
      .map((row) => row.datname)
      .filter((name) => {
        const [, y, mo, d, h, mi, se] = (ASIDE_TIME.exec(name) ?? []).map(Number);
        if (y === undefined || Number.isNaN(y)) return false;
        const at = new Date(Date.UTC(y, (mo ?? 1) - 1, d, h, mi, se));
        return databaseNameFor(asideIdentifier(this.targetIdentifier, at)) === name;
      })
      .map((name) => ({ name, dropCommand: dropCommand(name) }));
  }

  /** The copies restored for the target that were not swapped in (a rollback that did not finish). */
  private async restoredCopies(client: pg.Client): Promise<{ name: string; metadata: Metadata }[]> {
    return (await this.managed(client)).filter(
      ({ name, metadata }) =>
        metadata.kind === 'restore' &&
        metadata.tags[TagKeys.source] === this.targetIdentifier &&
        name !== this.targetIdentifier &&
        name === databaseNameFor(metadata.id),
    );
  }

  /**
   * What an execution that never finished left (no database under the target's name while copies renamed
   * aside or restored exist; a restored copy that was never swapped in), or undefined when there is none.
   * Reads only.
   */
  async unfinishedExecution(): Promise<UnfinishedExecution | undefined> {
    return await this.admin(async (client) => {
      const target = this.targetIdentifier;
      const present = await this.exists(client, target);
      const restored = await this.restoredCopies(client);
      const aside = await this.keptAside(client);
      const newestRestored = restored.at(-1);
      const newestAside = aside.at(-1);
      const found: string[] = [];
      for (const copy of restored) {
        found.push(
          `${copy.name}: a copy restored from snapshot ${copy.metadata.source} by ${creatorPhrase(copy.metadata.tags)}, never swapped in`,
        );
      }
      if (!present) {
        if (!newestRestored && !newestAside) return undefined;
        found.unshift(`no database named ${target}`);
        for (const copy of aside)
          found.push(`${copy.name}: a database ${target} renamed aside by a rollback or a restore`);
        const nextAction = newestRestored
          ? `finish the interrupted rollback or restore: its swap had renamed ${target} aside and not yet renamed the ` +
            `restored copy in. Run ${renameCommand(newestRestored.name, target)}; then check ${target}.`
          : `give the name back to the database renamed aside: ${renameCommand(newestAside?.name ?? '', target)}.`;
        return { found, nextAction };
      }
      if (!newestRestored) return undefined;
      const asideName = databaseNameFor(asideIdentifier(target, new Date()));
      return {
        found: [
          `${target}: exists (a rollback or a requested restore of it was started: after a rollback it may hold the ` +
            'failed release)',
          ...found,
        ],
        nextAction:
          `finish the rollback by hand: ${renameCommand(target, asideName)}; ${renameCommand(newestRestored.name, target)}. ` +
          `Or, if you have checked that ${target} is fine as it is, drop the copy: ${restored
            .map((copy) => dropCommand(copy.name))
            .join('; ')}.`,
      };
    });
  }

  /**
   * Brings an interrupted swap to a state where the original name holds real data: when the original was
   * renamed aside and the restored copy is not yet in place, the swap is completed (the restored copy takes
   * the name: the execution had decided, on evidence, to restore, and a template clone is complete once it
   * exists); with no restored copy, the aside copy is renamed back (undone). Anything else is left as it is.
   */
  async settleSwap(request: SwapRequest): Promise<'completed' | 'undone' | 'untouched'> {
    const original = request.originalIdentifier;
    const restored = databaseNameFor(request.restoredIdentifier);
    const aside = databaseNameFor(request.asideIdentifier);
    return await this.admin(async (client) => {
      if (await this.exists(client, original)) return 'untouched';
      if (!(await this.exists(client, aside))) return 'untouched';
      if (await this.exists(client, restored)) {
        await client.query(renameCommand(restored, original));
        return 'completed';
      }
      await client.query(renameCommand(aside, original));
      return 'undone';
    });
  }
}
