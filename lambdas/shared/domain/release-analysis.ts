/**
 * What a release's SQL will do, read with PostgreSQL's own parser (libpg_query compiled to wasm, through
 * `pgsql-parser`), never with regular expressions: which statements cannot run inside the release
 * transaction, and which tables the release will lock.
 *
 * Pure: no I/O besides loading the parser once when this module is imported.
 */
import { loadModule, parseSync } from 'pgsql-parser';
import type { Migration } from '../contract/ports.js';
import { KEEP_STATEMENTS_UP_TO } from './script-memory.js';
import {
  type AstNode,
  isObject,
  nameList,
  type ParsedStatement,
  rangeVarName,
  ScriptLocator,
  shorten,
  statementEnds,
  unwrap,
  walk,
} from './sql-ast.js';
import type {
  EnumValueUsed,
  NonTransactionalStatement,
  ReleaseAnalysis,
  UnparsableScript,
} from './transaction-fallback.js';

export type { NonTransactionalStatement, ReleaseAnalysis, UnparsableScript } from './transaction-fallback.js';
export { transactionFallbackReason, unparsableScriptsMessage } from './transaction-fallback.js';

await loadModule();

interface RawStatement {
  readonly stmt?: unknown;
  stmt_location?: number;
  stmt_len?: number;
}

/** The fields of libpg_query's nodes that hold a byte offset into the parsed text (`@pgsql/types`, PostgreSQL 18). */
const OFFSET_FIELDS = new Set([
  'location',
  'name_location',
  'stmt_location',
  'list_start',
  'list_end',
  'rexpr_list_start',
  'rexpr_list_end',
]);

/** Offsets a piece's byte offsets (`OFFSET_FIELDS`) by where the piece starts in the script. */
function shiftLocations(value: unknown, by: number): void {
  if (Array.isArray(value)) {
    for (const item of value) shiftLocations(item, by);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (typeof child === 'number') {
      if (OFFSET_FIELDS.has(key) && child >= 0) value[key] = child + by;
    } else if (typeof child === 'object' && child !== null) shiftLocations(child, by);
  }
}

/** A statement as the parser gives it, with its text and where it starts (a UTF-16 index into the script). */
interface ReadStatement {
  readonly node: AstNode;
  readonly text: string;
  readonly charOffset: number;
}

/**
 * The statements of `parseSync(sql).stmts`, from `first` on, each with its text (libpg_query's locations are UTF-8
 * byte offsets into `sql`, plus `base`) and where it starts in the script (`charBase` plus its UTF-16 index in `sql`).
 */
function* readStatements(
  sql: string,
  { base = 0, charBase = 0, first = 0 }: { base?: number; charBase?: number; first?: number } = {},
): Generator<ReadStatement> {
  const stmts = (parseSync(sql) as { stmts?: RawStatement[] }).stmts ?? [];
  const bytes = Buffer.from(sql, 'utf8');
  // Statement boundaries are character boundaries: the UTF-16 offset grows by the text between two of them.
  let byteOffset = 0;
  let charOffset = 0;
  for (const raw of stmts) {
    const start = raw.stmt_location ?? 0;
    if (!isObject(raw.stmt) || start + base < first) continue;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    charOffset += bytes.subarray(byteOffset, start).toString('utf8').length;
    byteOffset = start;
    if (base > 0) shiftLocations(raw.stmt, base);
    yield {
      node: raw.stmt,
      text: bytes.subarray(start, end).toString('utf8'),
      charOffset: charBase + charOffset,
    };
  }
}

/**
 * A script's statements as `parseSync(sql).stmts` gives them, parsed a piece at a time and handed out one by one, so
 * that a caller who does not keep them holds one statement's tree at a time: libpg_query's JSON tree of a whole
 * script is many times the script's size (13x kept as JavaScript objects), and the wasm heap grows to the largest
 * parse and never gives memory back (a 10 MB data migration parsed whole peaked 517 MB above the process; see
 * `script-memory.ts`). Each piece starts at the `;` that ends the statement before it (an empty statement the parser
 * drops), so no token of a piece is at its offset 0, whose location libpg_query's JSON would leave out. When a piece
 * does not parse (a cut inside `BEGIN ATOMIC ... END`), the script is parsed whole, and its statements from that
 * piece on are handed out: a whole parse's error, and its cursor, are then the ones thrown.
 */
function* parseInPieces(sql: string): Generator<ReadStatement> {
  const ends = statementEnds(sql);
  if (ends.length <= 1) {
    yield* readStatements(sql);
    return;
  }
  let start = 0;
  let startByte = 0;
  for (const end of [...ends, sql.length]) {
    const piece = sql.slice(start, end + 1);
    if (piece.trim() !== '' && piece.trim() !== ';') {
      let statements: ReadStatement[];
      try {
        statements = [...readStatements(piece, { base: startByte, charBase: start })];
      } catch {
        yield* readStatements(sql, { first: startByte });
        return;
      }
      yield* statements;
    }
    startByte += Buffer.byteLength(sql.slice(start, end), 'utf8');
    start = end;
  }
}

/**
 * The statements of a script, one at a time, with their text and where each starts (line and column of the first
 * token).
 */
function* statementsOf(migration: string, sql: string): Generator<ParsedStatement> {
  const locator = new ScriptLocator(sql);
  for (const { node, text, charOffset } of parseInPieces(sql)) {
    const { line, column } = locator.locate(charOffset);
    yield { migration, node, text, line, column };
  }
}

const TRANSACTION_CONTROL: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

function hasConcurrentlyOption(body: AstNode): boolean {
  const params = Array.isArray(body.params) ? body.params : [];
  return params.some(
    (param) => isObject(param) && isObject(param.DefElem) && param.DefElem.defname === 'concurrently',
  );
}

/** Why this statement cannot run inside a transaction block, or undefined when it can. */
function nonTransactionalReason(node: AstNode): string | undefined {
  const [type, body] = unwrap(node);
  switch (type) {
    case 'IndexStmt':
      return body.concurrent === true
        ? 'CREATE INDEX CONCURRENTLY cannot run inside a transaction block'
        : undefined;
    case 'DropStmt':
      return body.concurrent === true
        ? 'DROP INDEX CONCURRENTLY cannot run inside a transaction block'
        : undefined;
    case 'ReindexStmt':
      if (hasConcurrentlyOption(body)) return 'REINDEX CONCURRENTLY cannot run inside a transaction block';
      if (body.kind === 'REINDEX_OBJECT_SYSTEM' || body.kind === 'REINDEX_OBJECT_DATABASE') {
        return 'REINDEX SYSTEM/DATABASE cannot run inside a transaction block';
      }
      return undefined;
    case 'VacuumStmt':
      return body.is_vacuumcmd === true ? 'VACUUM cannot run inside a transaction block' : undefined;
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM cannot run inside a transaction block';
    case 'CreatedbStmt':
      return 'CREATE DATABASE cannot run inside a transaction block';
    case 'DropdbStmt':
      return 'DROP DATABASE cannot run inside a transaction block';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE cannot run inside a transaction block';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE cannot run inside a transaction block';
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
      return 'CREATE/DROP SUBSCRIPTION cannot run inside a transaction block (when it manages a replication slot)';
    case 'TransactionStmt': {
      const control = typeof body.kind === 'string' ? TRANSACTION_CONTROL[body.kind] : undefined;
      return control === undefined
        ? undefined
        : `the script controls its own transaction (${control}), which would end the release transaction early`;
    }
    case 'AlterTableStmt':
      for (const [innerType, inner] of walk(body.cmds)) {
        if (innerType === 'PartitionCmd' && inner.concurrent === true) {
          return 'DETACH PARTITION CONCURRENTLY cannot run inside a transaction block';
        }
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Tables this statement locks. */
function lockedBy(node: AstNode): string[] {
  const tables: string[] = [];
  const add = (name: string | undefined) => {
    if (name !== undefined) tables.push(name);
  };
  for (const [type, body] of walk(node)) {
    switch (type) {
      case 'AlterTableStmt':
        if (body.objtype === 'OBJECT_TABLE') add(rangeVarName(body.relation));
        break;
      case 'IndexStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'InsertStmt':
      case 'CreateTrigStmt':
        add(rangeVarName(body.relation));
        break;
      case 'RenameStmt':
        if (body.renameType === 'OBJECT_TABLE' || body.relationType === 'OBJECT_TABLE')
          add(rangeVarName(body.relation));
        break;
      case 'TruncateStmt':
      case 'LockStmt':
        for (const relation of Array.isArray(body.relations) ? body.relations : [])
          add(rangeVarName(relation));
        break;
      case 'DropStmt':
        if (body.removeType === 'OBJECT_TABLE') {
          for (const object of Array.isArray(body.objects) ? body.objects : []) add(nameList(object));
        }
        break;
      case 'Constraint':
        if (body.contype === 'CONSTR_FOREIGN') add(rangeVarName(body.pktable));
        break;
      default:
        break;
    }
  }
  return tables;
}

interface AddedEnumValue {
  readonly migration: string;
  readonly statement: string;
  readonly typeName: string;
  readonly value: string;
  /** Where the `ADD VALUE` statement starts. */
  readonly line: number;
  readonly column: number;
}

/**
 * One type of the database, followed by identity through the release: `ALTER TYPE "Role_new" RENAME TO "Role"`
 * moves the identity to the other name, and a column keeps the type it was given whatever the type is called later.
 */
interface TrackedType {
  /** Values `ALTER TYPE ... ADD VALUE` added in the release that no later migration was seen to use yet. */
  readonly added: Map<string, AddedEnumValue>;
}

interface KnownType {
  readonly type: TrackedType;
  readonly array: boolean;
}

/**
 * The type a string constant is converted to where it stands: a known type; `'unknown'` when it is assigned to,
 * defaulted on or compared with a column whose type the release does not show; `undefined` when nothing
 * converts it to a column's type (a select list, a function argument, a LIKE pattern, a comment).
 */
type Target = KnownType | 'unknown' | undefined;

interface Scope {
  /** Tables the statement names (its target and its FROM/USING/JOIN items), unqualified. */
  readonly tables: readonly string[];
  readonly aliases: ReadonlyMap<string, string>;
}

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

function stringValue(node: unknown): string | undefined {
  return isObject(node) && isObject(node.String) && typeof node.String.sval === 'string'
    ? node.String.sval
    : undefined;
}

/** The unqualified name of a `List`/array of `String` nodes or of a `TypeName` (schemas are ignored, see below). */
function lastName(value: unknown): string | undefined {
  const body = isObject(value) && isObject(value.TypeName) ? value.TypeName : value;
  const items = isObject(body) && isObject(body.List) ? body.List.items : isObject(body) ? body.names : body;
  return Array.isArray(items) ? stringValue(items.at(-1)) : undefined;
}

/**
 * The elements of an array literal's text (a constant's value, not SQL) such as `{EMAIL,"TEXT MESSAGE"}`, or the
 * text itself when it is not one.
 */
function arrayLiteralElements(text: string): string[] {
  const inner = /^\s*\{(.*)\}\s*$/s.exec(text)?.[1];
  if (inner === undefined) return [text];
  return inner.split(',').map((item) => item.trim().replace(/^"(.*)"$/s, '$1'));
}

/**
 * The new enum values (`ALTER TYPE ... ADD VALUE`) a release uses after the migration that added them.
 * PostgreSQL refuses such a use inside the transaction that added the value ("unsafe use of new value"), also
 * when the type itself was created in that transaction (checked on PostgreSQL 15); the values listed in
 * `CREATE TYPE ... AS ENUM` are safe, which is why Prisma's `Role_new` dance is no use of the value it re-lists.
 *
 * A use counts only when the constant is converted to the type the value was added to: a cast (`'EMAIL'::"A"`,
 * `ARRAY['EMAIL']::"A"[]`), the default of a column of that type, a value assigned to such a column (UPDATE,
 * INSERT, ON CONFLICT), or a comparison with it (`=`, `IN`, `ANY`, `CASE`). A column's type comes from the
 * release's own CREATE TABLE / ADD COLUMN / ALTER COLUMN TYPE, followed through renames and drops.
 *
 * When the release does not show a column's type (the table was created by an earlier release), a constant
 * assigned to it or compared with it counts as a use of every type that gained that value. Both mistakes are
 * possible here. Taking it as no use when it is one loses no data (PostgreSQL refuses it inside the release
 * transaction, which rolls back) but makes the release fail on every attempt in one-transaction mode, and this is
 * the canonical shape (one migration adds 'EMAIL', a later one runs `ALTER TABLE "User" ALTER COLUMN "role" SET
 * DEFAULT 'EMAIL'` on an existing table). Taking it as a use when it is not costs a per-migration release (how
 * `prisma migrate deploy` always runs; a failure then needs the snapshot), and needs a column set to, or compared
 * with, exactly the new value's text while the release does not show that column's type: rarer. So: a use.
 * Schemas are ignored (types and tables are known by their unqualified names), in the same direction.
 *
 * Not seen (PostgreSQL then refuses inside the release transaction, which rolls back: nothing is applied): a
 * use inside a DO block, a function called later in the release, or a text column's data cast to the type.
 * Function bodies (`AS $$ ... $$`) are not executed by their CREATE, so what they mention is not a use.
 */
class NewEnumValues {
  private readonly types = new Map<string, TrackedType>();
  private readonly withAdded = new Set<TrackedType>();
  private readonly tables = new Map<string, Map<string, KnownType>>();

  /** Reads one statement in release order: the new values it uses (added by an earlier migration), then its effect. */
  read(
    node: AstNode,
    migration: string,
    text: string,
    at: { line: number; column: number } = { line: 1, column: 1 },
  ): { added: AddedEnumValue; uncertain: boolean }[] {
    const used: { added: AddedEnumValue; uncertain: boolean }[] = [];
    const onConstant = (constant: string, target: Target) => {
      if (target === undefined) return;
      const candidates = target === 'unknown' ? [...this.withAdded] : [target.type];
      const values = target !== 'unknown' && target.array ? arrayLiteralElements(constant) : [constant];
      for (const type of candidates) {
        for (const value of values) {
          const added = type.added.get(value);
          if (added === undefined || added.migration === migration) continue;
          used.push({ added, uncertain: target === 'unknown' });
          type.added.delete(value);
        }
      }
    };
    const [type, body] = unwrap(node);
    // Most statements come with no new value pending: then only their effect on types and columns matters.
    const scope = this.pending() ? this.scopeOf(body) : undefined;
    if (type === 'AlterTableStmt' && body.objtype === 'OBJECT_TABLE') {
      const table = rangeVarName(body.relation)?.split('.').at(-1);
      for (const cmd of Array.isArray(body.cmds) ? body.cmds : []) {
        const command = isObject(cmd) && isObject(cmd.AlterTableCmd) ? cmd.AlterTableCmd : {};
        if (scope) this.findUses(command, table, scope, onConstant);
        if (table !== undefined) this.alterTable(table, command);
      }
    } else {
      if (scope) this.visit(node, undefined, scope, onConstant);
      this.apply(type, body, migration, text, at);
    }
    return used;
  }

  /** Values added and never seen used later in the release. */
  unused(): AddedEnumValue[] {
    return [...this.withAdded].flatMap((type) => [...type.added.values()]);
  }

  private pending(): boolean {
    return [...this.withAdded].some((type) => type.added.size > 0);
  }

  private typeNamed(name: string): TrackedType {
    let type = this.types.get(name);
    if (type === undefined) {
      type = { added: new Map() };
      this.types.set(name, type);
    }
    return type;
  }

  private typeOf(typeName: unknown): KnownType | undefined {
    const name = lastName(isObject(typeName) ? { TypeName: typeName } : typeName);
    if (name === undefined || !isObject(typeName)) return undefined;
    const array = Array.isArray(typeName.arrayBounds) && typeName.arrayBounds.length > 0;
    return { type: this.typeNamed(name), array };
  }

  private table(name: string): Map<string, KnownType> {
    let columns = this.tables.get(name);
    if (columns === undefined) {
      columns = new Map();
      this.tables.set(name, columns);
    }
    return columns;
  }

  private columnTarget(table: string | undefined, column: unknown): Target {
    if (table === undefined || typeof column !== 'string') return 'unknown';
    return this.tables.get(table)?.get(column) ?? 'unknown';
  }

  private scopeOf(statement: AstNode): Scope {
    const tables: string[] = [];
    const aliases = new Map<string, string>();
    const add = (range: unknown) => {
      if (!isObject(range) || typeof range.relname !== 'string') return;
      tables.push(range.relname);
      if (isObject(range.alias) && typeof range.alias.aliasname === 'string')
        aliases.set(range.alias.aliasname, range.relname);
    };
    add(statement.relation);
    for (const [type, body] of walk(statement)) {
      if (type === 'RangeVar') add(body);
      else if (isObject(body.relation)) add(body.relation);
    }
    return { tables, aliases };
  }

  /** The type of a column reference or a cast, when the release shows it. */
  private typeOfExpression(expression: unknown, scope: Scope): Target {
    if (!isObject(expression)) return undefined;
    if (isObject(expression.TypeCast)) return this.typeOf(expression.TypeCast.typeName);
    if (!isObject(expression.ColumnRef)) return undefined;
    const fields = Array.isArray(expression.ColumnRef.fields) ? expression.ColumnRef.fields : [];
    const names = fields.map(stringValue);
    const column = names.at(-1);
    if (column === undefined || names.some((name) => name === undefined)) return 'unknown';
    if (names.length >= 2) {
      const qualifier = names.at(-2) as string;
      return this.columnTarget(scope.aliases.get(qualifier) ?? qualifier, column);
    }
    const found = scope.tables.flatMap((table) => this.tables.get(table)?.get(column) ?? []);
    const [first] = found;
    return first && found.every((known) => known.type === first.type && known.array === first.array)
      ? first
      : 'unknown';
  }

  private findUses(
    command: AstNode,
    table: string | undefined,
    scope: Scope,
    onConstant: (constant: string, target: Target) => void,
  ): void {
    if (command.subtype === 'AT_ColumnDefault') {
      this.visit(command.def, this.columnTarget(table, command.name), scope, onConstant);
    } else {
      this.visit(command, undefined, scope, onConstant);
    }
  }

  /** Every string constant below `value`, with the type it is converted to. */
  private visit(
    value: unknown,
    target: Target,
    scope: Scope,
    onConstant: (constant: string, target: Target) => void,
  ): void {
    const visit = (child: unknown, childTarget: Target = undefined) =>
      this.visit(child, childTarget, scope, onConstant);
    if (Array.isArray(value)) {
      for (const item of value) visit(item, target);
      return;
    }
    if (!isObject(value)) return;
    const entries = Object.entries(value);
    const [type, body] = entries[0] ?? ['', undefined];
    if (entries.length !== 1 || !/^[A-Z]/.test(type) || !isObject(body)) {
      for (const [, child] of entries) visit(child);
      return;
    }
    const others = (...handled: string[]) => {
      for (const [key, child] of Object.entries(body)) if (!handled.includes(key)) visit(child);
    };
    switch (type) {
      case 'A_Const':
        if (isObject(body.sval) && typeof body.sval.sval === 'string') onConstant(body.sval.sval, target);
        return;
      case 'List':
        visit(body.items, target);
        return;
      case 'TypeCast':
        visit(body.arg, this.typeOf(body.typeName));
        return;
      case 'A_ArrayExpr':
        visit(
          body.elements,
          target === 'unknown' ? 'unknown' : target?.array ? { type: target.type, array: false } : undefined,
        );
        return;
      case 'CoalesceExpr':
      case 'MinMaxExpr': {
        const args = Array.isArray(body.args) ? body.args : [];
        const typed = args.map((arg) => this.typeOfExpression(arg, scope)).find((t) => t !== undefined);
        visit(args, target ?? typed);
        return;
      }
      case 'CaseExpr': {
        const argType = this.typeOfExpression(body.arg, scope);
        for (const when of Array.isArray(body.args) ? body.args : []) {
          const caseWhen = isObject(when) && isObject(when.CaseWhen) ? when.CaseWhen : {};
          visit(caseWhen.expr, argType);
          visit(caseWhen.result, target);
        }
        visit(body.defresult, target);
        visit(body.arg);
        return;
      }
      case 'A_Expr': {
        const operator = Array.isArray(body.name) ? stringValue(body.name.at(-1)) : undefined;
        const kind = body.kind;
        const compares =
          ((kind === 'AEXPR_OP' || kind === 'AEXPR_OP_ANY' || kind === 'AEXPR_OP_ALL') &&
            operator !== undefined &&
            COMPARISONS.has(operator)) ||
          ['AEXPR_IN', 'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT', 'AEXPR_NULLIF'].includes(String(kind)) ||
          String(kind).includes('BETWEEN');
        if (!compares) {
          others();
          return;
        }
        const left = this.typeOfExpression(body.lexpr, scope);
        const right = this.typeOfExpression(body.rexpr, scope);
        const listOnRight = kind === 'AEXPR_IN' || String(kind).includes('BETWEEN');
        const anyOrAll = kind === 'AEXPR_OP_ANY' || kind === 'AEXPR_OP_ALL';
        visit(body.lexpr, listOnRight || anyOrAll ? undefined : right);
        visit(
          body.rexpr,
          anyOrAll && left !== undefined && left !== 'unknown' ? { ...left, array: true } : left,
        );
        return;
      }
      case 'ColumnDef': {
        const columnType = this.typeOf(body.typeName);
        for (const constraint of Array.isArray(body.constraints) ? body.constraints : []) {
          const inner = isObject(constraint) && isObject(constraint.Constraint) ? constraint.Constraint : {};
          visit(constraint, inner.contype === 'CONSTR_DEFAULT' ? columnType : undefined);
        }
        // `ALTER COLUMN ... TYPE t USING (expression)`: the expression is converted to the new type.
        visit(body.raw_default, columnType);
        return;
      }
      case 'Constraint':
        visit(body.raw_expr, body.contype === 'CONSTR_DEFAULT' ? target : undefined);
        others('raw_expr');
        return;
      case 'UpdateStmt': {
        const table = rangeVarName(body.relation)?.split('.').at(-1);
        this.visitAssignments(body.targetList, table, visit);
        others('targetList');
        return;
      }
      case 'InsertStmt': {
        const table = rangeVarName(body.relation)?.split('.').at(-1);
        const columns = (Array.isArray(body.cols) ? body.cols : []).map((col) =>
          isObject(col) && isObject(col.ResTarget) ? col.ResTarget.name : undefined,
        );
        const targetAt = (index: number) => this.columnTarget(table, columns[index]);
        const select =
          isObject(body.selectStmt) && isObject(body.selectStmt.SelectStmt) ? body.selectStmt.SelectStmt : {};
        for (const row of Array.isArray(select.valuesLists) ? select.valuesLists : []) {
          const items =
            isObject(row) && isObject(row.List) && Array.isArray(row.List.items) ? row.List.items : [];
          for (const [index, item] of items.entries()) visit(item, targetAt(index));
        }
        for (const [index, item] of (Array.isArray(select.targetList) ? select.targetList : []).entries()) {
          visit(isObject(item) && isObject(item.ResTarget) ? item.ResTarget.val : item, targetAt(index));
        }
        for (const [key, child] of Object.entries(select))
          if (key !== 'valuesLists' && key !== 'targetList') visit(child);
        const conflict = isObject(body.onConflictClause) ? body.onConflictClause : {};
        this.visitAssignments(conflict.targetList, table, visit);
        visit(conflict.whereClause);
        visit(conflict.infer);
        others('selectStmt', 'onConflictClause');
        return;
      }
      default:
        others();
        return;
    }
  }

  /** `SET "column" = value` items: each value is converted to its column's type. */
  private visitAssignments(
    targetList: unknown,
    table: string | undefined,
    visit: (child: unknown, target?: Target) => void,
  ): void {
    for (const item of Array.isArray(targetList) ? targetList : []) {
      const target = isObject(item) && isObject(item.ResTarget) ? item.ResTarget : {};
      visit(target.val, this.columnTarget(table, target.name));
      visit(target.indirection);
    }
  }

  private alterTable(table: string, command: AstNode): void {
    const columns = this.table(table);
    const def = isObject(command.def) && isObject(command.def.ColumnDef) ? command.def.ColumnDef : undefined;
    switch (command.subtype) {
      case 'AT_AddColumn':
        this.defineColumn(columns, def?.colname, def?.typeName);
        break;
      case 'AT_AlterColumnType':
        this.defineColumn(columns, command.name, def?.typeName);
        break;
      case 'AT_DropColumn':
        if (typeof command.name === 'string') columns.delete(command.name);
        break;
      default:
        break;
    }
  }

  private defineColumn(columns: Map<string, KnownType>, name: unknown, typeName: unknown): void {
    const known = this.typeOf(typeName);
    if (typeof name === 'string' && known !== undefined) columns.set(name, known);
  }

  /** What the statement changes in the types and columns the release knows. */
  private apply(
    type: string,
    body: AstNode,
    migration: string,
    text: string,
    at: { line: number; column: number },
  ): void {
    switch (type) {
      case 'CreateEnumStmt': {
        const name = lastName(body.typeName);
        // A new identity: the values it lists are committed with the type, so using them is safe.
        if (name !== undefined) this.types.set(name, { added: new Map() });
        break;
      }
      case 'AlterEnumStmt': {
        const name = lastName(body.typeName);
        if (name === undefined || typeof body.newVal !== 'string') break;
        const tracked = this.typeNamed(name);
        if (typeof body.oldVal === 'string') {
          const renamed = tracked.added.get(body.oldVal);
          if (renamed) {
            tracked.added.delete(body.oldVal);
            tracked.added.set(body.newVal, { ...renamed, value: body.newVal });
          }
        } else if (!tracked.added.has(body.newVal)) {
          tracked.added.set(body.newVal, {
            migration,
            statement: shorten(text),
            typeName: nameList(body.typeName) ?? name,
            value: body.newVal,
            line: at.line,
            column: at.column,
          });
          this.withAdded.add(tracked);
        }
        break;
      }
      case 'RenameStmt': {
        if (typeof body.newname !== 'string') break;
        if (body.renameType === 'OBJECT_TYPE') {
          const name = lastName(body.object);
          if (name === undefined) break;
          const tracked = this.typeNamed(name);
          this.types.delete(name);
          this.types.set(body.newname, tracked);
        } else if (body.renameType === 'OBJECT_TABLE') {
          const name = rangeVarName(body.relation)?.split('.').at(-1);
          if (name === undefined) break;
          this.tables.set(body.newname, this.table(name));
          this.tables.delete(name);
        } else if (body.renameType === 'OBJECT_COLUMN' && typeof body.subname === 'string') {
          const name = rangeVarName(body.relation)?.split('.').at(-1);
          const columns = name === undefined ? undefined : this.tables.get(name);
          const known = columns?.get(body.subname);
          columns?.delete(body.subname);
          if (known) columns?.set(body.newname, known);
        }
        break;
      }
      case 'DropStmt':
        for (const object of Array.isArray(body.objects) ? body.objects : []) {
          const name = lastName(object);
          if (name === undefined) continue;
          if (body.removeType === 'OBJECT_TYPE') this.types.delete(name);
          if (body.removeType === 'OBJECT_TABLE') this.tables.delete(name);
        }
        break;
      case 'CreateStmt': {
        const name = rangeVarName(body.relation)?.split('.').at(-1);
        if (name === undefined) break;
        const columns = new Map<string, KnownType>();
        for (const element of Array.isArray(body.tableElts) ? body.tableElts : []) {
          if (isObject(element) && isObject(element.ColumnDef))
            this.defineColumn(columns, element.ColumnDef.colname, element.ColumnDef.typeName);
        }
        this.tables.set(name, columns);
        break;
      }
      default:
        break;
    }
  }
}

/**
 * Where the parser stopped, as an editor counts it. libpg_query reports the cursor as a character offset
 * (PostgreSQL counts it with `pg_mbstrlen`, i.e. in code points of the UTF-8 text; the wasm binding makes it
 * 0-based), not a byte offset, and not a UTF-16 index either: iterate the string by code points.
 */
function unparsableScript(migration: string, sql: string, error: unknown): UnparsableScript {
  const message = error instanceof Error ? error.message : String(error);
  const cursor = (error as { sqlDetails?: { cursorPosition?: unknown } } | null)?.sqlDetails?.cursorPosition;
  const offset = typeof cursor === 'number' && cursor >= 0 ? cursor : 0;
  let line = 1;
  let column = 1;
  let index = 0;
  for (const character of sql) {
    if (index === offset) break;
    index += 1;
    if (character === '\n') {
      line += 1;
      column = 1;
    } else {
      column += 1;
    }
  }
  return { migration, line, column, message, excerpt: shorten(sql.split('\n')[line - 1] ?? '') };
}

/** The statements of `migrations`, parsed again at each iteration (a script that does not parse throws). */
function reparsed(migrations: readonly Migration[]): Iterable<ParsedStatement> {
  return {
    *[Symbol.iterator]() {
      for (const migration of migrations) yield* statementsOf(migration.name, migration.sql);
    },
  };
}

/**
 * Reads the release's migrations (in order) and says what prevents a release transaction and what the
 * release locks. A script PostgreSQL's parser rejects is reported in `unparsable`, not as a reason to fall
 * back: it fails in any mode, so the release must be refused (preflight and the apply step do), not applied half
 * way; what its statements before the error said still counts (it is read as it is parsed).
 *
 * Statements are read one at a time and dropped after reading, unless the release is small enough to keep them
 * (`KEEP_STATEMENTS_UP_TO`, in `script-memory.ts`); `statements` parses them again otherwise.
 */
export function analyzeRelease(
  migrations: readonly Migration[],
  {
    keepStatementsUpTo = KEEP_STATEMENTS_UP_TO,
  }: {
    /** Keep the parsed statements when the release's SQL is at most this many UTF-16 code units (0: never). */
    readonly keepStatementsUpTo?: number;
  } = {},
): ReleaseAnalysis {
  const nonTransactional: NonTransactionalStatement[] = [];
  const locked = new Set<string>();
  const notes: string[] = [];
  const unparsable: UnparsableScript[] = [];
  const keep = migrations.reduce((sum, migration) => sum + migration.sql.length, 0) <= keepStatementsUpTo;
  const kept: ParsedStatement[] = [];
  const parses: Migration[] = [];
  const enumValuesUsed: EnumValueUsed[] = [];
  const enums = new NewEnumValues();
  for (const migration of migrations) {
    const read: ParsedStatement[] = [];
    try {
      for (const statement of statementsOf(migration.name, migration.sql)) {
        if (keep) read.push(statement);
        readStatement(statement);
      }
    } catch (error) {
      unparsable.push(unparsableScript(migration.name, migration.sql, error));
      continue;
    }
    kept.push(...read);
    parses.push(migration);
  }

  function readStatement({ migration, node, text, line, column }: ParsedStatement): void {
    const reason = nonTransactionalReason(node);
    if (reason !== undefined)
      nonTransactional.push({ migration, statement: shorten(text), reason, atomicMigration: false });
    for (const table of lockedBy(node)) locked.add(table);
    for (const { added, uncertain } of enums.read(node, migration, text, { line, column })) {
      enumValuesUsed.push({
        migration: added.migration,
        line: added.line,
        column: added.column,
        statement: added.statement,
        typeName: added.typeName,
        value: added.value,
        usedIn: migration,
      });
      const how = uncertain
        ? `, assigned to or compared with a column whose type this release does not show, so taken to be ${added.typeName}`
        : '';
      nonTransactional.push({
        migration: added.migration,
        statement: added.statement,
        atomicMigration: true,
        reason:
          `the enum value '${added.value}' added to ${added.typeName} is used later in the release ` +
          `(${migration}: "${shorten(text)}"${how}); PostgreSQL cannot use a new enum value in the ` +
          'transaction that added it',
      });
    }
  }

  for (const added of enums.unused()) {
    notes.push(
      `${added.migration} adds the value '${added.value}' to ${added.typeName} (ALTER TYPE ... ADD VALUE); ` +
        'it runs inside a transaction on PostgreSQL 12 and later, and the new value is usable once that transaction commits',
    );
  }
  return {
    nonTransactional,
    unparsable,
    lockedTables: [...locked].sort(),
    notes,
    statements: keep ? kept : reparsed(parses),
    enumValuesUsed,
  };
}
