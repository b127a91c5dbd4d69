/**
 * The lint's rules, one entry each: the id, what it matches, the risk, the safe alternative, and the check. A check
 * reads one parsed statement and what the release has done so far (`ReleaseTables`): a rule about an existing table
 * never fires on a table the release itself creates, because nobody reads or writes that table yet.
 *
 * Pure: parse trees in, subjects out. What the parser cannot see is not linted: statements inside a `DO` block or a
 * function body, and dynamic SQL.
 */
import { type AstNode, isObject, nameList, rangeVarName } from '../sql-ast.js';
import type { EnumValueUsed } from '../transaction-fallback.js';
import type { LintRuleId } from './policy.js';

/** The tables of the database before the release, read from its catalog (see `MigrationEngine.readSchemaCatalog`). */
export interface SchemaCatalog {
  /** The schema unqualified names resolve to: the first schema of the migrations' search path. */
  readonly schema: string;
  /** Every table and partitioned table of the database's own schemas, as `schema.table`. */
  readonly tables: readonly string[];
  /** Columns a validated `CHECK (column IS NOT NULL)` already covers, as `schema.table.column`. */
  readonly notNullChecked: readonly string[];
}

/** One statement as a check sees it. */
export interface StatementView {
  readonly type: string;
  readonly body: AstNode;
  readonly migration: string;
  readonly line: number;
  readonly column: number;
}

interface TrackedTable {
  /** True when the table existed before the release (its identity, followed through renames). */
  readonly existing: boolean;
  /** Columns the release added to it so far. */
  readonly added: Set<string>;
}

/** The tables as the release has left them so far: which existed before it, which it created, renamed, dropped. */
export class ReleaseTables {
  private readonly tables = new Map<string, TrackedTable>();
  private readonly notNullChecked: ReadonlySet<string>;
  private readonly schema: string;
  /** `migration:line:column` of each `ADD VALUE` whose value a later migration of the release uses. */
  readonly enumValuesUsed: ReadonlyMap<string, EnumValueUsed>;

  constructor(catalog: SchemaCatalog, enumValuesUsed: readonly EnumValueUsed[] = []) {
    this.schema = catalog.schema;
    for (const table of catalog.tables) this.tables.set(table, { existing: true, added: new Set() });
    this.notNullChecked = new Set(catalog.notNullChecked);
    this.enumValuesUsed = new Map(enumValuesUsed.map((used) => [locationKey(used), used]));
  }

  /** `schema.table` of a name as written (unqualified: the migrations' schema). */
  qualify(name: string): string {
    return name.includes('.') ? name : `${this.schema}.${name}`;
  }

  /** True when `name` is a table that existed before the release. */
  existing(name: string | undefined): name is string {
    return name !== undefined && this.tables.get(this.qualify(name))?.existing === true;
  }

  /** True when the column is one the release did not add (on a table that existed before it). */
  existingColumn(table: string, column: unknown): column is string {
    return (
      typeof column === 'string' &&
      this.existing(table) &&
      !this.tables.get(this.qualify(table))?.added.has(column)
    );
  }

  hasNotNullCheck(table: string, column: string): boolean {
    return this.notNullChecked.has(`${this.qualify(table)}.${column}`);
  }

  /** Follows what the statement does to tables and columns (after the checks have read it). */
  apply(statement: StatementView): void {
    const { type, body } = statement;
    switch (type) {
      case 'CreateStmt':
      case 'CreateTableAsStmt': {
        const relation =
          type === 'CreateStmt' ? body.relation : isObject(body.into) ? body.into.rel : undefined;
        const name = rangeVarName(relation);
        if (name !== undefined && !this.tables.has(this.qualify(name)))
          this.tables.set(this.qualify(name), { existing: false, added: new Set() });
        break;
      }
      case 'RenameStmt': {
        const name = rangeVarName(body.relation);
        if (name === undefined || typeof body.newname !== 'string') break;
        const tracked = this.tables.get(this.qualify(name));
        if (body.renameType === 'OBJECT_TABLE' && tracked) {
          this.tables.delete(this.qualify(name));
          const schema = this.qualify(name).split('.').slice(0, -1).join('.');
          this.tables.set(`${schema}.${body.newname}`, tracked);
        } else if (body.renameType === 'OBJECT_COLUMN' && tracked && typeof body.subname === 'string') {
          if (tracked.added.delete(body.subname)) tracked.added.add(body.newname);
        }
        break;
      }
      case 'DropStmt':
        if (body.removeType !== 'OBJECT_TABLE') break;
        for (const object of Array.isArray(body.objects) ? body.objects : []) {
          const name = nameList(object);
          if (name !== undefined) this.tables.delete(this.qualify(name));
        }
        break;
      case 'AlterTableStmt': {
        const name = rangeVarName(body.relation);
        const tracked = name === undefined ? undefined : this.tables.get(this.qualify(name));
        for (const command of commandsOf(body)) {
          const def = columnDefOf(command);
          if (command.subtype === 'AT_AddColumn' && typeof def?.colname === 'string')
            tracked?.added.add(def.colname);
        }
        break;
      }
      default:
        break;
    }
  }
}

export function locationKey(at: { migration: string; line: number; column: number }): string {
  return `${at.migration}:${at.line}:${at.column}`;
}

export interface LintRule {
  readonly id: LintRuleId;
  /** What the rule matches, in words (docs/lint.md). */
  readonly matches: string;
  /** Why it is dangerous. */
  readonly risk: string;
  /** What to do instead. */
  readonly safe: string;
  /** What the statement does that the rule matches (one entry per occurrence, e.g. `column "name" of "User"`). */
  check(statement: StatementView, tables: ReleaseTables): string[];
}

function commandsOf(body: AstNode): AstNode[] {
  if (body.objtype !== 'OBJECT_TABLE') return [];
  return (Array.isArray(body.cmds) ? body.cmds : []).flatMap((cmd) =>
    isObject(cmd) && isObject(cmd.AlterTableCmd) ? [cmd.AlterTableCmd] : [],
  );
}

function columnDefOf(command: AstNode): AstNode | undefined {
  return isObject(command.def) && isObject(command.def.ColumnDef) ? command.def.ColumnDef : undefined;
}

function constraintsOf(column: AstNode | undefined): AstNode[] {
  return (Array.isArray(column?.constraints) ? column.constraints : []).flatMap((item) =>
    isObject(item) && isObject(item.Constraint) ? [item.Constraint] : [],
  );
}

function addedConstraintOf(command: AstNode): AstNode | undefined {
  return command.subtype === 'AT_AddConstraint' && isObject(command.def) && isObject(command.def.Constraint)
    ? command.def.Constraint
    : undefined;
}

/**
 * The `ALTER TABLE` commands on a table that existed before the release, with the table's name. The table's added
 * columns are followed command by command, so `ADD COLUMN "a" ..., ALTER COLUMN "a" SET NOT NULL` sees "a" as new.
 */
function onExistingTable(
  statement: StatementView,
  tables: ReleaseTables,
  each: (command: AstNode, table: string) => string | undefined,
): string[] {
  if (statement.type !== 'AlterTableStmt') return [];
  const table = rangeVarName(statement.body.relation);
  if (!tables.existing(table)) return [];
  const subjects: string[] = [];
  const addedHere = new Set<string>();
  for (const command of commandsOf(statement.body)) {
    const name = typeof command.name === 'string' ? command.name : undefined;
    const subject = name !== undefined && addedHere.has(name) ? undefined : each(command, table);
    if (subject !== undefined) subjects.push(subject);
    const def = columnDefOf(command);
    if (command.subtype === 'AT_AddColumn' && typeof def?.colname === 'string') addedHere.add(def.colname);
  }
  return subjects;
}

function quoted(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/** Functions whose value differs per row (PostgreSQL then rewrites the table to store one per row). */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'gen_random_bytes',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'nextval',
]);
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);

function functionNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(functionNames);
  if (!isObject(value)) return [];
  const own =
    isObject(value.FuncCall) && Array.isArray(value.FuncCall.funcname)
      ? [nameList(value.FuncCall.funcname)?.split('.').at(-1) ?? '']
      : [];
  return [...own, ...Object.values(value).flatMap(functionNames)];
}

/** Why adding this column rewrites the table, or undefined when it does not. */
function rewriteOf(column: AstNode): string | undefined {
  const typeNames = isObject(column.typeName) ? column.typeName.names : undefined;
  const typeName = nameList(typeNames)?.split('.').at(-1)?.toLowerCase();
  if (typeName !== undefined && SERIAL_TYPES.has(typeName))
    return `its type ${typeName} defaults to nextval()`;
  for (const constraint of constraintsOf(column)) {
    if (constraint.contype === 'CONSTR_IDENTITY') return 'it is an identity column';
    if (constraint.contype === 'CONSTR_GENERATED') return 'it is a stored generated column';
    if (constraint.contype === 'CONSTR_DEFAULT') {
      const volatile = functionNames(constraint.raw_expr).find((name) => VOLATILE_FUNCTIONS.has(name));
      if (volatile !== undefined) return `its default calls ${volatile}(), a volatile function`;
    }
  }
  return undefined;
}

export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'drop-table',
    matches: '`DROP TABLE` of a table that exists before the release',
    risk:
      'Its rows are gone for good once the release commits (only a restore of the pre-migration snapshot brings ' +
      'them back, losing every later write), and the running application still queries it until it is deployed.',
    safe:
      'Stop using the model in the application first (release it), keep the data (rename the table aside or ' +
      'export it), and drop it in a later release; acknowledge the finding with the reason once that is done.',
    check: ({ type, body }, tables) => {
      if (type !== 'DropStmt' || body.removeType !== 'OBJECT_TABLE') return [];
      return (Array.isArray(body.objects) ? body.objects : [])
        .map((object) => nameList(object))
        .filter((name): name is string => tables.existing(name))
        .map((name) => `table ${quoted(name)}`);
    },
  },
  {
    id: 'drop-column',
    matches: '`ALTER TABLE ... DROP COLUMN` of a column that exists before the release',
    risk:
      "The column's data is gone once the release commits, and Prisma Client names every column it selects: " +
      'application instances still running the previous schema fail each query on the model until they are replaced.',
    safe:
      'Expand and contract: remove the field from the Prisma schema and deploy the application first (the column ' +
      'stays, unused), then drop the column in a later release; acknowledge the finding once nothing reads the ' +
      'column, or when the same migration copies its data elsewhere first.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) =>
        command.subtype === 'AT_DropColumn' && tables.existingColumn(table, command.name)
          ? `column "${command.name}" of ${quoted(table)}`
          : undefined,
      ),
  },
  {
    id: 'rename-table',
    matches: '`ALTER TABLE ... RENAME TO` of a table that exists before the release',
    risk:
      'Every query of the running application on that table fails from the commit until the new version is ' +
      'deployed everywhere: there is no moment when both names work.',
    safe:
      'Keep the table name and map the model to it (`@@map("old_name")`), or create the new table, write to both, ' +
      'backfill, move reads, then drop the old one over several releases.',
    check: ({ type, body }, tables) => {
      if (type !== 'RenameStmt' || body.renameType !== 'OBJECT_TABLE') return [];
      const name = rangeVarName(body.relation);
      return tables.existing(name) ? [`table ${quoted(name)} to "${String(body.newname)}"`] : [];
    },
  },
  {
    id: 'rename-column',
    matches: '`ALTER TABLE ... RENAME COLUMN` of a column that exists before the release',
    risk:
      'Every query of the running application that names the column fails from the commit until the new version ' +
      'is deployed everywhere (Prisma Client names every column it selects).',
    safe:
      'Keep the column name and map the field to it (`@map("old_name")`), or add the new column, write to both, ' +
      'backfill, move reads, then drop the old one in a later release.',
    check: ({ type, body }, tables) => {
      if (
        type !== 'RenameStmt' ||
        body.renameType !== 'OBJECT_COLUMN' ||
        body.relationType !== 'OBJECT_TABLE'
      )
        return [];
      const name = rangeVarName(body.relation);
      return name !== undefined && tables.existingColumn(name, body.subname)
        ? [`column "${body.subname}" of ${quoted(name)} to "${String(body.newname)}"`]
        : [];
    },
  },
  {
    id: 'change-column-type',
    matches: '`ALTER COLUMN ... TYPE` of a column that exists before the release',
    risk:
      'Most type changes rewrite the whole table and its indexes under an ACCESS EXCLUSIVE lock: no read or write ' +
      'of the table until it is done; a value that does not convert fails the release. (A few changes need no ' +
      'rewrite: varchar(n) to text or to a longer varchar, a numeric of higher precision at the same scale.) A few ' +
      'conversions lose data without failing: a numeric of lower scale rounds, timestamp to date drops the time.',
    safe:
      'Add a column of the new type, write to both, backfill in batches, move reads, then drop the old column in a ' +
      'later release; acknowledge the finding when the change is one that needs no rewrite.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) =>
        command.subtype === 'AT_AlterColumnType' && tables.existingColumn(table, command.name)
          ? `column "${command.name}" of ${quoted(table)}`
          : undefined,
      ),
  },
  {
    id: 'set-not-null',
    matches:
      '`ALTER COLUMN ... SET NOT NULL` of a column that exists before the release, unless a validated ' +
      '`CHECK (column IS NOT NULL)` already covers it',
    risk:
      'PostgreSQL scans the whole table for NULLs while holding an ACCESS EXCLUSIVE lock: no read or write of the ' +
      'table until the scan ends; a NULL fails the release, and application code still writing NULL fails after it.',
    safe:
      'In one release add `CHECK ("column" IS NOT NULL) NOT VALID`, then `VALIDATE CONSTRAINT` it (a scan that ' +
      'lets writes through); in a later release SET NOT NULL finds the validated check and skips the scan ' +
      '(PostgreSQL 12+), and the check can be dropped.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) =>
        command.subtype === 'AT_SetNotNull' &&
        tables.existingColumn(table, command.name) &&
        !tables.hasNotNullCheck(table, command.name)
          ? `column "${command.name}" of ${quoted(table)}`
          : undefined,
      ),
  },
  {
    id: 'add-column-volatile-default',
    matches:
      '`ADD COLUMN` to a table that exists before the release with a volatile default (`gen_random_uuid()`, ' +
      '`random()`, `clock_timestamp()`, `nextval()`, a serial type), an identity, or a stored generated column',
    risk:
      'PostgreSQL computes the value for every existing row: it rewrites the whole table under an ACCESS EXCLUSIVE ' +
      'lock, blocking every read and write until it is done. (A constant or `now()` default is stored once and ' +
      'needs no rewrite.)',
    safe:
      'Add the column without the default (or with a constant one), then `ALTER COLUMN ... SET DEFAULT` for new ' +
      'rows, and backfill the existing rows in batches outside the release.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) => {
        const column = columnDefOf(command);
        if (command.subtype !== 'AT_AddColumn' || column === undefined) return undefined;
        const why = rewriteOf(column);
        return why === undefined
          ? undefined
          : `column "${String(column.colname)}" of ${quoted(table)} (${why})`;
      }),
  },
  {
    id: 'create-index-non-concurrently',
    matches: '`CREATE INDEX` without `CONCURRENTLY` on a table that exists before the release',
    risk:
      'Building the index holds a SHARE lock on the table for the whole build: every INSERT, UPDATE and DELETE ' +
      'waits, for minutes on a large table.',
    safe:
      'Build it with `CREATE INDEX CONCURRENTLY` (writes go on). That cannot run inside a transaction block, and ' +
      'Prisma sends each migration.sql as one script that PostgreSQL runs as one implicit transaction (and this ' +
      "workflow's release mode runs the whole release in one): so put the statement alone in a migration of its " +
      'own (`prisma migrate dev --create-only`, then edit it). This workflow then applies that release migration ' +
      'by migration; if the build fails it leaves an INVALID index: `DROP INDEX CONCURRENTLY` it and run again. ' +
      'An index on a table the release creates needs none of this.',
    check: ({ type, body }, tables) => {
      if (type !== 'IndexStmt' || body.concurrent === true) return [];
      const name = rangeVarName(body.relation);
      return tables.existing(name)
        ? [`${typeof body.idxname === 'string' ? `index "${body.idxname}"` : 'an index'} on ${quoted(name)}`]
        : [];
    },
  },
  {
    id: 'add-foreign-key',
    matches:
      '`ADD CONSTRAINT ... FOREIGN KEY` (or `ADD COLUMN ... REFERENCES`) without `NOT VALID` on a table that ' +
      'exists before the release',
    risk:
      'PostgreSQL checks every existing row while holding a SHARE ROW EXCLUSIVE lock on the table and on the ' +
      'referenced table: writes to both wait until the scan ends; a row without its parent fails the release.',
    safe:
      'Add it `NOT VALID` (no scan; new rows are checked at once), then `ALTER TABLE ... VALIDATE CONSTRAINT` in a ' +
      'later release, which scans with a lock that lets reads and writes through.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) => {
        const added = addedConstraintOf(command);
        const columnLevel = constraintsOf(columnDefOf(command)).find(
          (constraint) => constraint.contype === 'CONSTR_FOREIGN',
        );
        const constraint = added?.contype === 'CONSTR_FOREIGN' ? added : columnLevel;
        if (constraint === undefined || constraint.skip_validation === true) return undefined;
        const name = typeof constraint.conname === 'string' ? `"${constraint.conname}" ` : '';
        return `foreign key ${name}on ${quoted(table)} to ${quoted(rangeVarName(constraint.pktable) ?? '?')}`;
      }),
  },
  {
    id: 'add-check-constraint',
    matches: '`ADD CONSTRAINT ... CHECK` without `NOT VALID` on a table that exists before the release',
    risk:
      'PostgreSQL checks every existing row while holding an ACCESS EXCLUSIVE lock: no read or write of the table ' +
      'until the scan ends; a row that fails the check fails the release.',
    safe:
      'Add it `NOT VALID` (no scan; new rows are checked at once), then `ALTER TABLE ... VALIDATE CONSTRAINT` in a ' +
      'later release, which scans with a lock that lets reads and writes through.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) => {
        const constraint = addedConstraintOf(command);
        if (constraint?.contype !== 'CONSTR_CHECK' || constraint.skip_validation === true) return undefined;
        const name = typeof constraint.conname === 'string' ? `"${constraint.conname}" ` : '';
        return `check ${name}on ${quoted(table)}`;
      }),
  },
  {
    id: 'add-unique-constraint',
    matches:
      '`ADD CONSTRAINT ... UNIQUE` or `PRIMARY KEY` (or a column added with one) on a table that exists before ' +
      'the release, unless it is `USING INDEX`',
    risk:
      'PostgreSQL builds the unique index under an ACCESS EXCLUSIVE lock: no read or write of the table until the ' +
      'build ends; a duplicate fails the release.',
    safe:
      'Build the index first with `CREATE UNIQUE INDEX CONCURRENTLY` (alone in its migration: see ' +
      'create-index-non-concurrently), then `ADD CONSTRAINT ... UNIQUE USING INDEX` it, which is instant.',
    check: (statement, tables) =>
      onExistingTable(statement, tables, (command, table) => {
        const added = addedConstraintOf(command);
        const constraint = [added, ...constraintsOf(columnDefOf(command))].find(
          (candidate) =>
            (candidate?.contype === 'CONSTR_UNIQUE' || candidate?.contype === 'CONSTR_PRIMARY') &&
            typeof candidate.indexname !== 'string',
        );
        if (constraint === undefined) return undefined;
        const kind = constraint.contype === 'CONSTR_PRIMARY' ? 'primary key' : 'unique constraint';
        const name = typeof constraint.conname === 'string' ? `"${constraint.conname}" ` : '';
        return `${kind} ${name}on ${quoted(table)}`;
      }),
  },
  {
    id: 'truncate',
    matches: '`TRUNCATE` of a table that exists before the release',
    risk:
      'Every row is gone once the release commits (with `CASCADE`, those of every referencing table too); only a ' +
      'restore of the pre-migration snapshot brings them back, losing every later write.',
    safe:
      'Delete what must go with a `WHERE` that says which rows, or do it by hand outside the release; acknowledge ' +
      'the finding when emptying the table is the point.',
    check: ({ type, body }, tables) => {
      if (type !== 'TruncateStmt') return [];
      return (Array.isArray(body.relations) ? body.relations : [])
        .map((relation) => rangeVarName(relation))
        .filter((name): name is string => tables.existing(name))
        .map((name) => `table ${quoted(name)}${body.behavior === 'DROP_CASCADE' ? ' (CASCADE)' : ''}`);
    },
  },
  {
    id: 'delete-without-where',
    matches: '`DELETE` without `WHERE` from a table that exists before the release',
    risk:
      'It deletes every row once the release commits; only a restore of the pre-migration snapshot brings them ' +
      'back, losing every later write.',
    safe: 'Say which rows with a `WHERE`; acknowledge the finding when deleting every row is the point.',
    check: ({ type, body }, tables) => {
      if (type !== 'DeleteStmt' || body.whereClause !== undefined) return [];
      const name = rangeVarName(body.relation);
      return tables.existing(name) ? [`table ${quoted(name)}`] : [];
    },
  },
  {
    id: 'update-without-where',
    matches: '`UPDATE` without `WHERE` of a table that exists before the release',
    risk:
      'It rewrites every row in one transaction, holding a row lock on each until the release commits: writes ' +
      'to any of them wait, and the table and its indexes grow by a copy of every row.',
    safe:
      'Backfill in batches outside the release (by ranges of the primary key, each its own transaction), or say ' +
      'which rows with a `WHERE`; on a small table, accept the warning.',
    check: ({ type, body }, tables) => {
      if (type !== 'UpdateStmt' || body.whereClause !== undefined) return [];
      const name = rangeVarName(body.relation);
      return tables.existing(name) ? [`table ${quoted(name)}`] : [];
    },
  },
  {
    id: 'enum-value-used-in-release',
    matches: '`ALTER TYPE ... ADD VALUE` whose value a later migration of the same release uses',
    risk:
      'PostgreSQL refuses to use a new enum value in the transaction that added it, so the release cannot run in ' +
      'one transaction: it is applied migration by migration, and a failure after the first commit needs the ' +
      'snapshot restored instead of a rollback.',
    safe: 'Add the value in one release and start using it in the next.',
    check: (statement, tables) => {
      if (statement.type !== 'AlterEnumStmt') return [];
      const used = tables.enumValuesUsed.get(locationKey(statement));
      return used ? [`value '${used.value}' of ${used.typeName}, used in ${used.usedIn}`] : [];
    },
  },
];

/** The rule of an id (every id has one: `LINT_RULES` is checked against `LintRuleIds` by a test). */
export function ruleOf(id: LintRuleId): LintRule {
  const rule = LINT_RULES.find((candidate) => candidate.id === id);
  if (!rule) throw new Error(`No lint rule ${id}`);
  return rule;
}
