/**
 * What a release's SQL will do, read with PostgreSQL's own parser (libpg_query compiled to wasm, through
 * `pgsql-parser`), never with regular expressions: which statements cannot run inside the release
 * transaction, and which tables the release will lock.
 *
 * Pure: no I/O besides loading the parser once when this module is imported.
 */
import { loadModule, parseSync } from 'pgsql-parser';
import type { Migration } from './ports.js';
import type { NonTransactionalStatement, ReleaseAnalysis, UnparsableScript } from './transaction-fallback.js';

export type { NonTransactionalStatement, ReleaseAnalysis, UnparsableScript } from './transaction-fallback.js';
export { transactionFallbackReason, unparsableScriptsMessage } from './transaction-fallback.js';

await loadModule();

type AstNode = Record<string, unknown>;

interface ParsedStatement {
  readonly node: AstNode;
  readonly text: string;
}

const MAX_STATEMENT_LENGTH = 200;

function isObject(value: unknown): value is AstNode {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function shorten(text: string): string {
  const collapsed = text
    .replace(/^(?:\s*--[^\n]*\n)+/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return collapsed.length > MAX_STATEMENT_LENGTH
    ? `${collapsed.slice(0, MAX_STATEMENT_LENGTH - 3)}...`
    : collapsed;
}

/** The statements of a script, with their text (libpg_query locations are UTF-8 byte offsets). */
function statementsOf(sql: string): ParsedStatement[] {
  const bytes = Buffer.from(sql, 'utf8');
  const result = parseSync(sql) as {
    stmts?: { stmt?: unknown; stmt_location?: number; stmt_len?: number }[];
  };
  return (result.stmts ?? []).flatMap((raw) => {
    if (!isObject(raw.stmt)) return [];
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    return [{ node: raw.stmt, text: bytes.subarray(start, end).toString('utf8') }];
  });
}

/** The statement's node type and body (`{ IndexStmt: {...} }` -> `['IndexStmt', {...}]`). */
function unwrap(node: AstNode): [string, AstNode] {
  const [type, body] = Object.entries(node)[0] ?? ['', {}];
  return [type, isObject(body) ? body : {}];
}

/** Every `{ Type: body }` node below `value`, depth first. */
function* walk(value: unknown): Generator<[string, AstNode]> {
  if (Array.isArray(value)) {
    for (const item of value) yield* walk(item);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (/^[A-Z]/.test(key) && isObject(child)) yield [key, child];
    yield* walk(child);
  }
}

function rangeVarName(value: unknown): string | undefined {
  const range = isObject(value) && isObject(value.RangeVar) ? value.RangeVar : value;
  if (!isObject(range) || typeof range.relname !== 'string') return undefined;
  return typeof range.schemaname === 'string' ? `${range.schemaname}.${range.relname}` : range.relname;
}

/** `["public", "Task"]` from a `List` of `String` nodes. */
function nameList(value: unknown): string | undefined {
  const items = isObject(value) && isObject(value.List) ? value.List.items : value;
  if (!Array.isArray(items)) return undefined;
  const parts = items.map((item) =>
    isObject(item) && isObject(item.String) && typeof item.String.sval === 'string'
      ? item.String.sval
      : undefined,
  );
  return parts.every((part): part is string => part !== undefined) ? parts.join('.') : undefined;
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

/** String constants a statement uses (to find a new enum value used in the same transaction). */
function stringConstants(node: AstNode): Set<string> {
  const values = new Set<string>();
  for (const [type, body] of walk(node)) {
    if (type === 'A_Const' && isObject(body.sval) && typeof body.sval.sval === 'string')
      values.add(body.sval.sval);
  }
  return values;
}

interface AddedEnumValue {
  readonly migration: string;
  readonly statement: string;
  readonly typeName: string;
  readonly value: string;
}

function addedEnumValue(node: AstNode): { typeName: string; value: string } | undefined {
  const [type, body] = unwrap(node);
  if (type !== 'AlterEnumStmt' || typeof body.newVal !== 'string' || body.oldVal !== undefined)
    return undefined;
  return { typeName: nameList(body.typeName) ?? '?', value: body.newVal };
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

/**
 * Reads the release's migrations (in order) and says what prevents a release transaction and what the
 * release locks. A script PostgreSQL's parser rejects is reported in `unparsable`, not as a reason to fall
 * back: it fails in any mode, so the release must be refused (preflight does), not applied half way.
 */
export function analyzeRelease(migrations: readonly Migration[]): ReleaseAnalysis {
  const nonTransactional: NonTransactionalStatement[] = [];
  const locked = new Set<string>();
  const notes: string[] = [];
  const unparsable: UnparsableScript[] = [];
  const added: AddedEnumValue[] = [];
  for (const migration of migrations) {
    let statements: ParsedStatement[];
    try {
      statements = statementsOf(migration.sql);
    } catch (error) {
      unparsable.push(unparsableScript(migration.name, migration.sql, error));
      continue;
    }
    for (const { node, text } of statements) {
      const reason = nonTransactionalReason(node);
      if (reason !== undefined)
        nonTransactional.push({ migration: migration.name, statement: shorten(text), reason });
      for (const table of lockedBy(node)) locked.add(table);
      const constants = stringConstants(node);
      for (const enumValue of added) {
        if (enumValue.migration !== migration.name && constants.has(enumValue.value)) {
          nonTransactional.push({
            migration: enumValue.migration,
            statement: enumValue.statement,
            reason:
              `the enum value '${enumValue.value}' added to ${enumValue.typeName} is used later in the release ` +
              `(${migration.name}); PostgreSQL cannot use a new enum value in the transaction that added it`,
          });
          added.splice(added.indexOf(enumValue), 1);
        }
      }
      const enumValue = addedEnumValue(node);
      if (enumValue) added.push({ migration: migration.name, statement: shorten(text), ...enumValue });
    }
  }
  for (const enumValue of added) {
    notes.push(
      `${enumValue.migration} adds the value '${enumValue.value}' to ${enumValue.typeName} (ALTER TYPE ... ADD VALUE); ` +
        'it runs inside a transaction on PostgreSQL 12 and later, and the new value is usable once that transaction commits',
    );
  }
  return { nonTransactional, unparsable, lockedTables: [...locked].sort(), notes };
}
