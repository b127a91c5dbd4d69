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
 * Held writes of one row are sent as one statement: in a release the row's INSERT stays held while its script runs,
 * and goes, with the applied steps and `finished_at` in it, with the next script (or before `COMMIT`): one INSERT
 * instead of an INSERT and two UPDATEs, with the same row in the end, and no dead row versions. When anything else
 * comes first (a failing script, whose row the engine then updates), the INSERT is sent as it came. A trigger on
 * `_prisma_migrations` therefore sees one INSERT of a finished row, where it saw an INSERT and two UPDATEs.
 *
 * Outside a release transaction (per-migration mode) each migration commits on its own, so less is held: the
 * INSERT of a migration whose script can run in a transaction travels with the script (`runAutocommit`: the row
 * and the script commit together), and the applied-steps UPDATE is held until the `finished_at` UPDATE that
 * follows it, both in one statement, i.e. one commit: the row goes from started to finished at once, never to a
 * state between. Two round trips and two commits per migration instead of four of each.
 */
import type { ArgType, SqlQuery, SqlResultSet } from '@prisma/driver-adapter-utils';
import pg from 'pg';

const TABLE = String.raw`(?:"(?:[^"]|"")+"\.)?"_prisma_migrations"`;

/** The engine's writes on a successful migration (schema engine of prisma 7.10; see the adapter's test). */
const STARTED = new RegExp(
  String.raw`^INSERT INTO (${TABLE}) \("id","checksum","started_at","migration_name"\) VALUES \(\$1,\$2,\$3,\$4\)$`,
);
const STEPS = new RegExp(
  String.raw`^UPDATE (${TABLE}) SET "applied_steps_count" = \("applied_steps_count" \+ \$1\) WHERE "id" = \$2$`,
);
const FINISHED = new RegExp(String.raw`^UPDATE (${TABLE}) SET "finished_at" = \$1 WHERE "id" = \$2$`);
const HELD_SHAPES = { started: STARTED, steps: STEPS, finished: FINISHED } as const;

/** One held write: its kind, the table as the engine named it, its values as SQL literals, and itself rendered. */
interface HeldWrite {
  readonly kind: keyof typeof HELD_SHAPES;
  readonly table: string;
  /** `$1`, `$2`, ... as literals. */
  readonly values: readonly string[];
  readonly sql: string;
}

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

/** `query` as a held write, when it is one of the held shapes and every value renders. */
function heldWrite(query: SqlQuery): HeldWrite | undefined {
  const [kind, match] =
    Object.entries(HELD_SHAPES)
      .map(([kind, shape]) => [kind as HeldWrite['kind'], shape.exec(query.sql)] as const)
      .find(([, match]) => match !== null) ?? [];
  if (kind === undefined || !match) return undefined;
  const values = query.args.map((value, index) => literal(value, query.argTypes[index]));
  if (values.some((value) => value === undefined)) return undefined;
  const rendered = values as string[];
  const sql = query.sql.replace(/\$(\d+)/g, (_, n: string) => rendered[Number(n) - 1] ?? '');
  return { kind, table: match[1] as string, values: rendered, sql };
}

/** `query` with its `$n` replaced by literals, when it is one of the held shapes and every value renders. */
export function renderHeldWrite(query: SqlQuery): string | undefined {
  return heldWrite(query)?.sql;
}

/**
 * The held writes as statements, in order, each row's consecutive writes as one: an INSERT followed by its applied
 * steps and `finished_at` becomes one INSERT of the finished row (`applied_steps_count` starts at its default, 0, in
 * Prisma's table), and the applied steps followed by `finished_at` one UPDATE.
 */
function coalesced(writes: readonly HeldWrite[]): string[] {
  const statements: string[] = [];
  for (let index = 0; index < writes.length; index += 1) {
    const write = writes[index] as HeldWrite;
    const id = write.kind === 'started' ? write.values[0] : write.values[1];
    const next = (kind: HeldWrite['kind'], at: number) => {
      const candidate = writes[at];
      return candidate?.kind === kind && candidate.values[1] === id && candidate.table === write.table
        ? candidate
        : undefined;
    };
    if (write.kind === 'started') {
      const steps = next('steps', index + 1);
      const finished = next('finished', index + (steps ? 2 : 1));
      if (steps || finished) {
        const extra = [
          ...(steps ? [['"applied_steps_count"', steps.values[0]]] : []),
          ...(finished ? [['"finished_at"', finished.values[0]]] : []),
        ];
        const columns = ['"id"', '"checksum"', '"started_at"', '"migration_name"', ...extra.map(([c]) => c)];
        const values = [...write.values, ...extra.map(([, value]) => value)];
        statements.push(`INSERT INTO ${write.table} (${columns.join(',')}) VALUES (${values.join(',')})`);
        index += (steps ? 1 : 0) + (finished ? 1 : 0);
        continue;
      }
    } else if (write.kind === 'steps') {
      const finished = next('finished', index + 1);
      if (finished) {
        statements.push(
          `UPDATE ${write.table} SET "applied_steps_count" = ("applied_steps_count" + ${write.values[0]}), ` +
            `"finished_at" = ${finished.values[0]} WHERE "id" = ${id}`,
        );
        index += 1;
        continue;
      }
    }
    statements.push(write.sql);
  }
  return statements;
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
  private readonly held: HeldWrite[] = [];
  private complete = false;

  /** Holds `query` and answers true when it is held (then `due` says whether to send what is held now). */
  hold(query: SqlQuery): boolean {
    if (this.mode === 'off') return false;
    const write = heldWrite(query);
    if (write === undefined || !this.holds(write, query)) return false;
    this.held.push(write);
    this.complete = this.mode === 'autocommit' && write.kind === 'finished';
    return true;
  }

  /** Whether `write` (one of the held shapes, its values rendered) is held in this mode. */
  private holds(write: HeldWrite, query: SqlQuery): boolean {
    if (this.mode !== 'autocommit') return true;
    switch (write.kind) {
      case 'started': {
        const migration = query.args[3];
        return this.held.length === 0 && typeof migration === 'string' && this.startsWithScript(migration);
      }
      case 'steps':
        return true;
      case 'finished':
        // Held only to travel with the applied-steps UPDATE held before it.
        return this.held.length > 0;
    }
  }

  /** Whether what is held must be sent now (per-migration mode: the row's writes are complete). */
  get due(): boolean {
    return this.complete;
  }

  /**
   * The held writes as one script (in order, each row's writes as one statement), or undefined when none is held;
   * they are no longer held. `forScript`: in a release, the INSERT of the row whose script is about to run stays
   * held, to go with the rest of that row's writes.
   */
  take(forScript = false): string | undefined {
    this.complete = false;
    const last = this.held.at(-1);
    const keep = forScript && this.mode === 'release' && last?.kind === 'started' ? this.held.splice(-1) : [];
    const statements = coalesced(this.held);
    this.held.splice(0, this.held.length, ...keep);
    return statements.length === 0 ? undefined : statements.join(';\n');
  }

  /** Sends the held writes, if any, in one round trip. */
  async flush(client: pg.Client): Promise<void> {
    const script = this.take();
    if (script !== undefined) await client.query(script);
  }
}
