import { getHeapStatistics } from 'node:v8';
import { parseSync } from 'pgsql-parser';
import { describe, expect, it } from 'vitest';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import { analyzeRelease } from '../../lambdas/shared/domain/release-analysis.js';
import {
  HELD_BYTES_PER_SCRIPT_BYTE,
  KEEP_STATEMENTS_UP_TO,
  KEPT_BYTES_PER_SCRIPT_BYTE,
  largestStatementBytes,
  type MemoryShortfall,
  memoryShortfall,
  memoryShortfallMessage,
  PARSE_BYTES_PER_STATEMENT_BYTE,
  parseMemoryEstimate,
  RUNTIME_BASELINE_BYTES,
} from '../../lambdas/shared/domain/script-memory.js';
import { statementEnds } from '../../lambdas/shared/domain/sql-ast.js';
import { availableMemoryBytes } from '../../lambdas/shared/runtime/memory.js';
import {
  appliedRow,
  FakeMigrationEngine,
  FakeMigrationSource,
  migration,
  rejection,
  stateWith,
  testSettings,
} from '../helpers/fakes.js';

const MB = 1024 * 1024;

/** A data migration of about `bytes` bytes: INSERT ... VALUES, 100 rows per statement. */
function dataMigration(name: string, bytes: number) {
  const rows: string[] = [];
  let size = 0;
  for (let id = 0; size < bytes; id += 1) {
    const row = `${id % 100 === 0 ? ';\nINSERT INTO "Item" ("id", "name") VALUES ' : ',\n'}(${id}, 'item ${id}')`;
    rows.push(row);
    size += row.length;
  }
  return migration(name, `${rows.join('').slice(2)};\n`);
}

describe('the memory a script needs to be parsed', () => {
  const KEPT = HELD_BYTES_PER_SCRIPT_BYTE + KEPT_BYTES_PER_SCRIPT_BYTE;
  const PER_BYTE = KEPT + PARSE_BYTES_PER_STATEMENT_BYTE;

  it('counts the text, the trees when the analysis keeps them, and the parse of the largest statement', () => {
    expect(parseMemoryEstimate(10 * MB, MB, true)).toBe(10 * MB * KEPT + MB * PARSE_BYTES_PER_STATEMENT_BYTE);
    expect(parseMemoryEstimate(10 * MB, MB, false)).toBe(
      10 * MB * HELD_BYTES_PER_SCRIPT_BYTE + MB * PARSE_BYTES_PER_STATEMENT_BYTE,
    );
    // UTF-8 bytes, not UTF-16 code units: 'é' is 2 bytes.
    expect(largestStatementBytes("SELECT 'ab';\nSELECT 'éééé';\nSELECT 1")).toBe(
      ";\nSELECT 'éééé'".length + 4,
    );
    expect(largestStatementBytes('SELECT 1')).toBe(8);
  });

  const memory = RUNTIME_BASELINE_BYTES + 100 * 1024 * PER_BYTE; // room for one statement of 100 KiB
  const small = migration('20260101000000_small', 'x'.repeat(100 * 1024));
  const large = migration('20260102000000_large', 'x'.repeat(100 * 1024 + 1));
  // 'é' is 2 bytes in UTF-8: 60 Ki of it is 120 KiB, over the room although its length is 60 Ki.
  const accented = migration('20260103000000_accented', 'é'.repeat(60 * 1024));
  // 150 KiB in statements of 1 KiB fits alone: what is kept is 26x the script, the parse 35x one statement.
  const many = migration('20260104000000_many', `${'x'.repeat(1023)};`.repeat(150));

  it('names the scripts too large alone, largest first, and only those', () => {
    expect(memoryShortfall([small, large, accented, many], memory)).toMatchObject({
      together: false,
      scripts: [
        {
          migration: accented.name,
          bytes: 120 * 1024,
          largestStatementBytes: 120 * 1024,
          estimateBytes: 120 * 1024 * PER_BYTE,
        },
        {
          migration: large.name,
          bytes: 100 * 1024 + 1,
          largestStatementBytes: 100 * 1024 + 1,
          estimateBytes: (100 * 1024 + 1) * PER_BYTE,
        },
      ],
    });
    expect(memoryShortfall([small], memory)).toBeUndefined();
    expect(memoryShortfall([many], memory)).toBeUndefined();
  });

  it('refuses a release whose scripts fit alone but not together (the trees of every script are kept)', () => {
    const shortfall = memoryShortfall([small, many], memory);
    expect(shortfall).toEqual({
      together: true,
      releaseBytes: 250 * 1024,
      estimateBytes: 250 * 1024 * KEPT + 100 * 1024 * PARSE_BYTES_PER_STATEMENT_BYTE,
      scripts: [
        expect.objectContaining({ migration: many.name, bytes: 150 * 1024, largestStatementBytes: 1024 }),
        expect.objectContaining({ migration: small.name, bytes: 100 * 1024 }),
      ],
    });
    const message = memoryShortfallMessage(
      shortfall as MemoryShortfall,
      memory,
      'prisma/migrations',
      'the function f',
    );
    expect(message).toContain('The 250 KB of pending migrations in prisma/migrations are together too large');
    expect(message).toContain(
      'The largest: 20260104000000_many/migration.sql is 150 KB (its largest statement 1 KB)',
    );
    expect(message).toContain('split it into smaller migrations deployed in separate releases');
  });

  it('counts no trees for a release larger than the analysis keeps (its statements are parsed again for the lint)', () => {
    // 6 MiB in statements of 1 KiB: without trees 48 MiB + the parse of 1 KiB; with them it would be 156 MiB.
    const big = migration('20260105000000_big', `${'x'.repeat(1023)};`.repeat(6 * 1024));
    expect(big.sql.length).toBeGreaterThan(KEEP_STATEMENTS_UP_TO);
    const room = 60 * MB;
    expect(memoryShortfall([big], RUNTIME_BASELINE_BYTES + room)).toBeUndefined();
    expect(memoryShortfall([big], RUNTIME_BASELINE_BYTES + 40 * MB)).toMatchObject({
      together: false,
      estimateBytes: 6 * MB * HELD_BYTES_PER_SCRIPT_BYTE + 1024 * PARSE_BYTES_PER_STATEMENT_BYTE,
    });
    // Under the limit, the same statements count their trees.
    const under = migration('20260105000001_under', `${'x'.repeat(1023)};`.repeat(3 * 1024));
    expect(memoryShortfall([under], RUNTIME_BASELINE_BYTES + room)).toMatchObject({
      estimateBytes: 3 * MB * KEPT + 1024 * PARSE_BYTES_PER_STATEMENT_BYTE,
    });
  });

  it('reads the function memory Lambda sets, and the heap limit elsewhere', () => {
    expect(availableMemoryBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' })).toBe(1024 * MB);
    expect(availableMemoryBytes({})).toBe(getHeapStatistics().heap_size_limit);
    expect(availableMemoryBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'x' })).toBe(
      getHeapStatistics().heap_size_limit,
    );
  });
});

describe('preflight with a migration too large for its memory', () => {
  const init = migration('20250101000000_init');
  const data = dataMigration('20250102000000_load_items', 2 * MB);

  function deps(engine: FakeMigrationEngine, memoryBytes: number, parsed: string[]) {
    return {
      source: new FakeMigrationSource([init, data]),
      engine,
      guard: { othersRunning: async () => [] },
      settings: testSettings,
      databaseName: 'orders',
      analyzeRelease: (migrations: Parameters<typeof analyzeRelease>[0]) => {
        parsed.push(...migrations.map((m) => m.name));
        return analyzeRelease(migrations);
      },
      memory: { bytes: memoryBytes, owner: 'the function orders-preflight' },
    };
  }

  it('refuses it before parsing, naming the script, its size, the estimate, the memory and the fix', async () => {
    // Prepare: 20 MB of room; the 2 MB script in statements of 2 KB (a small release: trees kept) takes about 52 MB.
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(init)];
    const parsed: string[] = [];
    const memory = RUNTIME_BASELINE_BYTES + 20 * MB;
    const estimate = Math.round(parseMemoryEstimate(2 * MB, largestStatementBytes(data.sql), true) / MB);
    // Act
    const error = await rejection(preflight(stateWith(), deps(engine, memory, parsed)));
    // Assess
    expect(error.name).toBe(ErrorNames.MigrationsInvalid);
    expect(error.message).toContain(
      `20250102000000_load_items/migration.sql is 2.0 MB (its largest statement 3 KB), about ${estimate} MB to parse`,
    );
    expect(error.message).toContain(
      `in the ${RUNTIME_BASELINE_BYTES / MB + 20} MB of the function orders-preflight: about ${estimate} MB needed`,
    );
    expect(error.message).toContain('Load large data outside the release');
    expect(error.message).toContain('nothing was touched');
    expect(parsed).toEqual([]);
    expect(engine.applyCalls).toHaveLength(0);
  });

  it('parses and plans it when the memory is enough', async () => {
    const engine = new FakeMigrationEngine();
    engine.history = [appliedRow(init)];
    const parsed: string[] = [];
    const plan = await preflight(stateWith(), deps(engine, 1024 * MB, parsed));
    expect(plan).toMatchObject({ pending: [data.name], lockedTables: ['Item'], proceed: true });
    expect(parsed).toEqual([data.name]);
  });
});

describe('the cuts between statements the release analysis parses a piece at a time', () => {
  it('are the semicolons outside quotes, comments, dollar quotes and parentheses', () => {
    const sql =
      "SELECT 'a;b', E'c\\';d', \"e;\"\"f\", $$g;$$, $t$ h; $x$ $t$, a$b FROM t -- i;\n" +
      '/* j /* k; */ ; */ ;CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO u VALUES (1); DELETE FROM u);';
    const ends = statementEnds(sql);
    expect(ends.map((end) => sql.slice(end - 2, end + 2))).toEqual(['/ ;C', 'u);']);
  });

  it('give the same analysis as a whole parse, also when a cut is wrong (BEGIN ATOMIC) or a script does not parse', () => {
    const scripts = [
      'CREATE TABLE "A" ("id" INT);\n-- é 📝\nINSERT INTO "A" VALUES (1), (2);\nALTER TABLE "A" ADD COLUMN "b" INT;\n',
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\nUPDATE "A" SET "b" = 1;\n',
      'SELECT 1;\n/* é */ ALTR TABLE "A" RENAME TO "B";\n',
      // A wrong cut after statements already read: the whole parse's statements from that piece on follow them.
      'UPDATE "A" SET "b" = 0;\n-- ü\nCREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nDROP TABLE "A";\n',
    ];
    // Kept by the analysis (a small release), or parsed again when read (a large one): the same statements.
    for (const keepUpTo of [KEEP_STATEMENTS_UP_TO, 0]) {
      const statementsOf = (sql: string) => [
        ...(analyzeRelease([migration('20260101000000_a', sql)], { keepStatementsUpTo: keepUpTo })
          .statements ?? []),
      ];
      // The nodes, byte offsets into the script included, are the ones a parse of the whole script gives.
      for (const sql of [scripts[0], scripts[1], scripts[3]] as string[]) {
        const whole = (parseSync(sql) as { stmts: { stmt: unknown }[] }).stmts.map((raw) => raw.stmt);
        expect(statementsOf(sql).map((s) => s.node)).toEqual(whole);
        expect(JSON.stringify(whole)).toContain('"location":');
      }
      const where = (sql: string) =>
        statementsOf(sql).map((s) => [s.line, s.column, s.text.trim().slice(0, 11)]);
      expect(where(scripts[0] ?? '')).toEqual([
        [1, 1, 'CREATE TABL'],
        [3, 1, 'INSERT INTO'],
        [4, 1, 'ALTER TABLE'],
      ]);
      expect(where(scripts[3] ?? '')).toEqual([
        [1, 1, 'UPDATE "A" '],
        [3, 1, 'CREATE FUNC'],
        [4, 1, 'DROP TABLE '],
      ]);
      const analysis = analyzeRelease([migration('20260101000000_a', scripts[0] ?? '')], {
        keepStatementsUpTo: keepUpTo,
      });
      expect(analysis.lockedTables).toEqual(['A']);
      const atomic = analyzeRelease([migration('20260101000001_b', scripts[1] ?? '')], {
        keepStatementsUpTo: keepUpTo,
      });
      expect(atomic.unparsable).toEqual([]);
      expect([...(atomic.statements ?? [])]).toHaveLength(2);
      const typo = analyzeRelease(
        [migration('20260101000002_c', scripts[2] ?? ''), migration('20260101000003_d', 'DROP TABLE "A";')],
        { keepStatementsUpTo: keepUpTo },
      );
      expect(typo.unparsable).toMatchObject([{ line: 2, column: 9 }]);
      // A script that does not parse gives the lint none of its statements.
      expect([...(typo.statements ?? [])].map((s) => s.migration)).toEqual(['20260101000003_d']);
    }
    // Texts, lines and columns included.
    const both = (sql: string) =>
      [KEEP_STATEMENTS_UP_TO, 0].map((keepUpTo) => [
        ...(analyzeRelease([migration('20260101000000_a', sql)], { keepStatementsUpTo: keepUpTo })
          .statements ?? []),
      ]);
    for (const sql of [scripts[0], scripts[1], scripts[3]] as string[]) {
      const [kept, reparsed] = both(sql);
      expect(reparsed).toEqual(kept);
    }
  });
});
