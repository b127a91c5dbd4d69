/**
 * Prisma's bookkeeping writes of a release transaction, held back to travel with the next script.
 *
 * For each migration the engine writes its `_prisma_migrations` row three times (the INSERT when it starts, the
 * applied steps, `finished_at`), each in a round trip of its own, and the release adds a `SAVEPOINT` and a
 * `RELEASE SAVEPOINT` around the script: five round trips for one script, measured as a third of a release of
 * small migrations. Inside the release transaction nothing is visible to anyone before `COMMIT`, so only the
 * order of these writes matters: they are held, in order, and sent in the same simple query as the next script
 * (see `runInSavepoint`), and whatever is left before `COMMIT` or before any other statement of the engine.
 *
 * Only the three exact statements the engine writes on the way of a successful migration are held, with their
 * values rendered exactly as adapter-pg sends them; anything else (a failure's logs, the resolve marks, reads)
 * first sends what is held.
 *
 * Outside a release transaction (per-migration mode) each migration commits on its own, so less is held: the
 * INSERT of a migration whose script can run in a transaction travels with the script (`runAutocommit`: the row
 * and the script commit together), and the applied-steps UPDATE is held until the `finished_at` UPDATE that
 * follows it, both in one query, i.e. one commit: the row goes from started to finished at once, never to a state
 * between. Two round trips and two commits per migration instead of four of each.
 */
import type { ArgType, SqlQuery, SqlResultSet } from '@prisma/driver-adapter-utils';
import pg from 'pg';

const TABLE = String.raw`(?:"(?:[^"]|"")+"\.)?"_prisma_migrations"`;

/** The engine's writes on a successful migration (schema engine of prisma 7.10; see the adapter's test). */
const STARTED = new RegExp(
  String.raw`^INSERT INTO ${TABLE} \("id","checksum","started_at","migration_name"\) VALUES \(\$1,\$2,\$3,\$4\)$`,
);
const STEPS = new RegExp(
  String.raw`^UPDATE ${TABLE} SET "applied_steps_count" = \("applied_steps_count" \+ \$1\) WHERE "id" = \$2$`,
);
const FINISHED = new RegExp(String.raw`^UPDATE ${TABLE} SET "finished_at" = \$1 WHERE "id" = \$2$`);
const HELD_SHAPES: readonly RegExp[] = [STARTED, STEPS, FINISHED];

/** adapter-pg's rendering of a `datetime` argument (its `formatDateTime`): UTC, no zone, milliseconds if any. */
export function adapterDateTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const ms = date.getUTCMilliseconds();
  return (
    `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
    (ms ? `.${String(ms).padStart(3, '0')}` : '')
  );
}

/** The SQL literal of one argument, as adapter-pg would bind it; undefined for anything else. */
function literal(value: unknown, type: ArgType | undefined): string | undefined {
  if (type?.arity !== 'scalar') return undefined;
  if (value === null) return 'NULL';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  if (type.scalarType === 'datetime') {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : pg.escapeLiteral(adapterDateTime(date));
  }
  return type.scalarType === 'bytes' ? undefined : pg.escapeLiteral(value);
}

/** `query` with its `$n` replaced by literals, when it is one of the held shapes and every value renders. */
export function renderHeldWrite(query: SqlQuery): string | undefined {
  if (!HELD_SHAPES.some((shape) => shape.test(query.sql))) return undefined;
  let complete = true;
  const sql = query.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    const rendered = literal(query.args[index], query.argTypes[index]);
    if (rendered === undefined) complete = false;
    return rendered ?? '';
  });
  return complete ? sql : undefined;
}

/** What an INSERT or UPDATE without RETURNING answers through adapter-pg. */
export function emptyResultSet(): SqlResultSet {
  return { columnNames: [], columnTypes: [], rows: [] };
}

/** `release`: inside the release transaction; `autocommit`: per-migration mode; `off`: nothing is held. */
export type HoldingMode = 'release' | 'autocommit' | 'off';

export class HeldBookkeeping {
  /** What is held (see the module's comment). */
  mode: HoldingMode = 'off';
  /** Per-migration mode: whether the INSERT of this migration's row may travel with its script. @default none */
  startsWithScript: (migration: string) => boolean = () => false;
  private readonly held: string[] = [];
  private complete = false;

  /** Holds `query` and answers true when it is held (then `due` says whether to send what is held now). */
  hold(query: SqlQuery): boolean {
    if (!this.holds(query)) return false;
    const rendered = renderHeldWrite(query);
    if (rendered === undefined) return false;
    this.held.push(rendered);
    this.complete = this.mode === 'autocommit' && FINISHED.test(query.sql);
    return true;
  }

  /** Whether `query` is held in this mode (its shape and values are checked by `renderHeldWrite`). */
  private holds(query: SqlQuery): boolean {
    switch (this.mode) {
      case 'off':
        return false;
      case 'release':
        return true;
      case 'autocommit': {
        if (STARTED.test(query.sql)) {
          const migration = query.args[3];
          return this.held.length === 0 && typeof migration === 'string' && this.startsWithScript(migration);
        }
        // The finished_at UPDATE is held only to travel with the applied-steps UPDATE held before it.
        return STEPS.test(query.sql) || (FINISHED.test(query.sql) && this.held.length > 0);
      }
    }
  }

  /** Whether what is held must be sent now (per-migration mode: the row's writes are complete). */
  get due(): boolean {
    return this.complete;
  }

  /** The held writes as one script (in order), or undefined when none is held; they are no longer held. */
  take(): string | undefined {
    this.complete = false;
    if (this.held.length === 0) return undefined;
    const script = this.held.join(';\n');
    this.held.length = 0;
    return script;
  }

  /** Sends the held writes, if any, in one round trip. */
  async flush(client: pg.Client): Promise<void> {
    const script = this.take();
    if (script !== undefined) await client.query(script);
  }
}
