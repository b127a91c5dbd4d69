/**
 * Reading PostgreSQL's parse trees (libpg_query's JSON, as `pgsql-parser` returns it): the few helpers the release
 * analysis and the lint share. Pure: no parser here, so a module that only reads trees does not load WebAssembly.
 */

export type AstNode = Record<string, unknown>;

/** A statement of a migration as parsed, with where it starts (its first token, not the comments before it). */
export interface ParsedStatement {
  readonly migration: string;
  readonly node: AstNode;
  /** The statement as written (comments before it included). */
  readonly text: string;
  /** 1-based line of the statement's first token in `migration.sql`. */
  readonly line: number;
  /** 1-based column of that token, in characters (Unicode code points). */
  readonly column: number;
}

export function isObject(value: unknown): value is AstNode {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The statement's node type and body (`{ IndexStmt: {...} }` -> `['IndexStmt', {...}]`). */
export function unwrap(node: AstNode): [string, AstNode] {
  const [type, body] = Object.entries(node)[0] ?? ['', {}];
  return [type, isObject(body) ? body : {}];
}

/** Every `{ Type: body }` node below `value`, depth first. */
export function* walk(value: unknown): Generator<[string, AstNode]> {
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

/** `schema.table` or `table` of a `RangeVar` (bare or wrapped). */
export function rangeVarName(value: unknown): string | undefined {
  const range = isObject(value) && isObject(value.RangeVar) ? value.RangeVar : value;
  if (!isObject(range) || typeof range.relname !== 'string') return undefined;
  return typeof range.schemaname === 'string' ? `${range.schemaname}.${range.relname}` : range.relname;
}

/** `"public.Task"` from a `List` of `String` nodes (`["public", "Task"]`). */
export function nameList(value: unknown): string | undefined {
  const items = isObject(value) && isObject(value.List) ? value.List.items : value;
  if (!Array.isArray(items)) return undefined;
  const parts = items.map((item) =>
    isObject(item) && isObject(item.String) && typeof item.String.sval === 'string'
      ? item.String.sval
      : undefined,
  );
  return parts.every((part): part is string => part !== undefined) ? parts.join('.') : undefined;
}

/**
 * Lines and columns in one script: each offset is turned into the line and column (1-based, columns in code points)
 * of the first token at or after it: whitespace and comments (`-- ...`, `/* ... *\/`) before a statement are skipped.
 * Line starts are computed once, so locating every statement of a long script stays linear.
 */
export class ScriptLocator {
  private readonly lineStarts: number[] = [0];
  private readonly skip = /(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)/y;

  constructor(private readonly sql: string) {
    for (let index = sql.indexOf('\n'); index !== -1; index = sql.indexOf('\n', index + 1))
      this.lineStarts.push(index + 1);
  }

  /** Where the first token at or after `offset` (a UTF-16 index into the script) is. */
  locate(offset: number): { line: number; column: number } {
    let index = offset;
    for (;;) {
      this.skip.lastIndex = index;
      const skipped = this.skip.exec(this.sql);
      if (!skipped || skipped[0].length === 0) break;
      index += skipped[0].length;
    }
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((this.lineStarts[middle] ?? 0) <= index) low = middle;
      else high = middle - 1;
    }
    const lineStart = this.lineStarts[low] ?? 0;
    return { line: low + 1, column: [...this.sql.slice(lineStart, index)].length + 1 };
  }
}
