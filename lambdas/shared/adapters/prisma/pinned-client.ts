/**
 * One `pg.Client` per engine run, pinned so that every statement of the run (the engine's advisory lock, its
 * bookkeeping, the migration scripts, and any surrounding transaction) lands on the same PostgreSQL session;
 * and PostgreSQL's `"char"` columns made readable by adapter-pg.
 */
import pg from 'pg';

/** PostgreSQL's internal single-byte `"char"` type, which adapter-pg 7.10 cannot map. */
const CHAR_OID = 18;
const TEXT_OID = 25;

/** The indexes of the `"char"` columns of a result, keyed by the result's `rows` array. */
const charColumns = new WeakMap<object, readonly number[]>();

/**
 * The indexes of the columns that were PostgreSQL `"char"` in the result whose `rows` array this is (empty
 * for any other array). adapter-pg returns that very array in its result set, which is how its caller finds
 * the columns again.
 */
export function charColumnsOf(rows: unknown): readonly number[] {
  return (rows !== null && typeof rows === 'object' ? charColumns.get(rows) : undefined) ?? [];
}

/**
 * Lets adapter-pg read `"char"` columns: it throws `UnsupportedNativeDataType` for oid 18, so the field is
 * relabelled text (the value already is a string), and its index is remembered for `charColumnsOf` so the
 * migration adapter can report the column as the engine's `Character` type.
 */
function relabelCharColumns(value: unknown): void {
  for (const part of Array.isArray(value) ? value : [value]) {
    const result = part as { fields?: { dataTypeID: number }[]; rows?: unknown } | undefined;
    const indexes: number[] = [];
    result?.fields?.forEach((field, index) => {
      if (field.dataTypeID !== CHAR_OID) return;
      field.dataTypeID = TEXT_OID;
      indexes.push(index);
    });
    if (indexes.length > 0 && result?.rows !== null && typeof result?.rows === 'object') {
      charColumns.set(result.rows, indexes);
    }
  }
}

interface PinnedClient extends pg.Client {
  release(): void;
}

/**
 * Makes `client` lendable by a pool (a no-op `release`) and makes `"char"` columns readable in every result
 * (see `relabelCharColumns`). The client is ours (opened for this run), so adjusting this one instance is safe.
 */
export function pinClient(client: pg.Client): PinnedClient {
  const pinned = client as PinnedClient;
  if ('release' in pinned && typeof pinned.release === 'function') return pinned;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const mapped = (...args: unknown[]): unknown => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    return result.then((value: unknown) => {
      relabelCharColumns(value);
      return value;
    });
  };
  Object.assign(pinned, { query: mapped, release: () => undefined });
  return pinned;
}

/**
 * A `pg.Pool` that lends the same client for every query and every `connect()`: `@prisma/adapter-pg` takes a
 * pool, and a real pool would hand out a new session after a failed query (losing the advisory lock and
 * any surrounding transaction).
 */
export class PinnedClientPool extends pg.Pool {
  readonly pinned: PinnedClient;

  constructor(client: pg.Client) {
    super({ max: 1 });
    const pinned = pinClient(client);
    this.pinned = pinned;
    Object.assign(this, {
      connect: async () => pinned,
      query: (...args: unknown[]) => (pinned.query as (...a: unknown[]) => unknown)(...args),
      // The client belongs to the run, which ends it.
      end: async () => undefined,
    });
  }
}
