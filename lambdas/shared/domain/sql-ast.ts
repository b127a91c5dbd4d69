/**
 * Reading PostgreSQL's parse trees (libpg_query's JSON, as `pgsql-parser` returns it): the few helpers the release
 * analysis and the lint share. Pure: no parser here, so a module that only reads trees does not load WebAssembly.
 */

export type AstNode = Record<string, unknown>;

const MAX_STATEMENT_LENGTH = 200;

/** A statement as messages quote it: leading comment lines dropped, whitespace collapsed, at most 200 characters. */
export function shorten(text: string): string {
  const collapsed = text
    .replace(/^(?:\s*--[^\n]*\n)+/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return collapsed.length > MAX_STATEMENT_LENGTH
    ? `${collapsed.slice(0, MAX_STATEMENT_LENGTH - 3)}...`
    : collapsed;
}

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

/**
 * Every `{ Type: body }` node below `value`, depth first. An array, not a generator: nested `yield*` cost a
 * release of 400 migrations about 130 ms of the apply step's CPU.
 */
export function walk(value: unknown, into: [string, AstNode][] = []): [string, AstNode][] {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, into);
    return into;
  }
  if (value === null || typeof value !== 'object') return into;
  for (const key in value) {
    const child = (value as AstNode)[key];
    if (child === null || typeof child !== 'object') continue;
    const first = key.charCodeAt(0);
    if (first >= 65 && first <= 90 && !Array.isArray(child)) into.push([key, child as AstNode]);
    walk(child, into);
  }
  return into;
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

/**
 * Where a script can be cut between statements: after each `;` outside quotes (`'...'`, `E'...'`, `"..."`,
 * `$tag$...$tag$`), comments (`--`, nested `/* *\/`) and parentheses (`CREATE RULE ... DO (...; ...)`). UTF-16
 * indexes of the `;`. A cut this scanner gets wrong (`BEGIN ATOMIC ... END`) leaves a piece the parser rejects, and
 * the script is then parsed whole (see `parseInPieces`).
 */
export function statementEnds(sql: string): number[] {
  const ends: number[] = [];
  const length = sql.length;
  let depth = 0;
  let index = 0;
  const identifierChar = /[A-Za-z0-9_$\u0080-\uffff]/;
  const dollarTag = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
  while (index < length) {
    const char = sql[index];
    const next = sql[index + 1];
    if (char === '-' && next === '-') {
      const newline = sql.indexOf('\n', index);
      index = newline === -1 ? length : newline + 1;
    } else if (char === '/' && next === '*') {
      let nesting = 1;
      index += 2;
      while (index < length && nesting > 0) {
        if (sql[index] === '/' && sql[index + 1] === '*') {
          nesting += 1;
          index += 2;
        } else if (sql[index] === '*' && sql[index + 1] === '/') {
          nesting -= 1;
          index += 2;
        } else index += 1;
      }
    } else if (char === "'") {
      const before = sql[index - 1];
      const escapes = (before === 'E' || before === 'e') && !identifierChar.test(sql[index - 2] ?? ' ');
      index += 1;
      while (index < length) {
        const inner = sql[index];
        if (escapes && inner === '\\') index += 2;
        else if (inner === "'" && sql[index + 1] === "'") index += 2;
        else if (inner === "'") break;
        else index += 1;
      }
      index += 1;
    } else if (char === '"') {
      index += 1;
      while (index < length) {
        if (sql[index] === '"' && sql[index + 1] === '"') index += 2;
        else if (sql[index] === '"') break;
        else index += 1;
      }
      index += 1;
    } else if (char === '$' && !identifierChar.test(sql[index - 1] ?? ' ')) {
      dollarTag.lastIndex = index;
      const tag = dollarTag.exec(sql)?.[0];
      if (tag === undefined) {
        index += 1;
      } else {
        const close = sql.indexOf(tag, index + tag.length);
        index = close === -1 ? length : close + tag.length;
      }
    } else if (identifierChar.test(char ?? ' ')) {
      // An identifier or a number as a whole: a `$` inside it starts no quote.
      index += 1;
      while (index < length && identifierChar.test(sql[index] ?? ' ')) index += 1;
    } else {
      if (char === '(') depth += 1;
      else if (char === ')') depth = Math.max(0, depth - 1);
      else if (char === ';' && depth === 0) ends.push(index);
      index += 1;
    }
  }
  return ends;
}
