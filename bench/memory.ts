/**
 * Memory: the peak resident set of a fresh Node process applying migrations the way the apply step does
 * (`applyWithEngine`: the directory loaded, the engine started, the release applied in release mode with preflight's
 * verdicts on its scripts, computed here beforehand as preflight computes them in its own function, the engine closed),
 * each in a child process of its own (bench/memory-child.ts, run with `node --import tsx`) on
 * an empty database, interleaved:
 *
 * - the floor: the same child applying a 2-migration corpus: the imports loaded (tsx's loader included), the
 *   engine's WebAssembly instantiated (not the parser's: the apply step does not parse what preflight parsed), a
 *   connection, almost nothing applied;
 * - the release: the generated corpus (bench/corpus.ts) of N migrations, N the largest of the mode's sizes (800 in
 *   full mode), against the target of 256 MB peak; its baseline is the floor, so the ratio is what the
 *   release costs above what any apply costs;
 * - one large script: a table created by a first migration, then a data migration of S MiB of multi-row
 *   `INSERT ... VALUES` statements (1,000 rows each, the shape of the real-history trial's large script). The
 *   figure is its peak above the floor (same repetition), the baseline the script's own size, so the ratio reads
 *   "peak above the floor, in script sizes", against the "at most about 3x".
 *
 * The children write nothing but tsx's cache of compiled modules, kept in the scratch directory (TMPDIR), and the
 * database `orchbench_memory`, dropped at the end. The first child is a warm-up (that cache, the page cache), not
 * measured.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verdictsFor } from './apply-throughput.js';
import { generateCorpus, writeCorpus } from './corpus.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import { dropDatabase, recreateDatabase } from './lib/postgres.js';
import { runProcess, tail } from './lib/process.js';
import { type BenchRow, row } from './lib/report.js';
import { MiB, median, round } from './lib/stats.js';
import type { MemoryChildResult } from './memory-child.js';

const DATABASE = `${DATABASE_PREFIX}_memory`;
/** The targets. */
const TARGET_RELEASE_MB = 256;
const TARGET_TIMES_SCRIPT = 3;
const ROWS_PER_STATEMENT = 1000;

/** A data migration of about `mib` MiB: multi-row `INSERT ... VALUES` into the table `CREATE_TABLE` makes. */
const CREATE_TABLE =
  'CREATE TABLE "Item" ("id" INTEGER NOT NULL, "name" TEXT NOT NULL, "price" DECIMAL(10,2), "tag" TEXT,\n' +
  '  CONSTRAINT "Item_pkey" PRIMARY KEY ("id"));\n';

export function insertScript(mib: number): { sql: string; statements: number } {
  const target = mib * MiB;
  const parts: string[] = ['-- Backfill the items (data migration)\n'];
  let size = parts[0]?.length ?? 0;
  let id = 0;
  let statements = 0;
  while (size < target) {
    let line = `(${id}, 'name of item ${id}', ${id % 1000}.${id % 100}, 'tag-${id % 17}')`;
    if (id % ROWS_PER_STATEMENT === 0) {
      line = `INSERT INTO "Item" ("id", "name", "price", "tag") VALUES\n${line}`;
      statements += 1;
    }
    line += (id + 1) % ROWS_PER_STATEMENT === 0 ? ';\n' : ',\n';
    id += 1;
    parts.push(line);
    size += line.length;
  }
  const last = parts.length - 1;
  parts[last] = (parts[last] as string).replace(/,\n$/, ';\n');
  return { sql: parts.join(''), statements };
}

interface Measured {
  readonly peakMB: number;
  readonly applyMs: number;
}

const verdictsByDir = new Map<string, Promise<string>>();

/** Preflight's verdicts on the migrations of `dir`, as JSON, computed once per directory. */
function verdictsOnce(dir: string): Promise<string> {
  let verdicts = verdictsByDir.get(dir);
  if (verdicts === undefined) {
    verdicts = verdictsFor(dir).then((value) => JSON.stringify(value));
    verdictsByDir.set(dir, verdicts);
  }
  return verdicts;
}

/** Applies `dir` to an empty database in a fresh child; its peak RSS in MB and the apply's time. */
async function measureChild(
  context: BenchContext,
  dir: string,
  expected: number,
  tmp: string,
): Promise<Measured> {
  const url = await recreateDatabase(context.serverUrl, DATABASE);
  const child = join(context.projectRoot, 'bench', 'memory-child.ts');
  const verdicts = await verdictsOnce(dir);
  const run = await runProcess(process.execPath, ['--import', 'tsx', child, dir, String(expected)], {
    cwd: context.projectRoot,
    // TMPDIR: tsx keeps its cache of compiled modules there, in the scratch directory rather than the system's.
    env: {
      ...process.env,
      BENCH_MEMORY_DATABASE_URL: url,
      BENCH_MEMORY_VERDICTS: verdicts,
      TMPDIR: tmp,
      TMP: tmp,
      TEMP: tmp,
    },
  });
  const line = run.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"maxRssKiB"'));
  if (run.code !== 0 || !line) {
    const how = run.signal ? `was killed by ${run.signal}` : `exited with ${run.code}`;
    throw new Error(`The memory benchmark's child applying ${dir} ${how}:\n${tail(run.stderr)}`);
  }
  const result = JSON.parse(line) as MemoryChildResult;
  return { peakMB: result.maxRssKiB / 1024, applyMs: result.applyMs };
}

const rounded = (value: number) => Math.round(value * 10) / 10;

export async function memory(context: BenchContext): Promise<BenchRow[]> {
  const { serverUrl, profile, log } = context;
  const n = Math.max(...profile.corpusSizes);
  const floorDir = join(context.workDir, 'memory-floor');
  await writeCorpus(floorDir, generateCorpus(2));
  const releaseDir = join(context.workDir, `memory-corpus-${n}`);
  const corpus = generateCorpus(n);
  await writeCorpus(releaseDir, corpus);
  const releaseSqlMB = corpus.reduce((sum, m) => sum + Buffer.byteLength(m.sql), 0) / MiB;
  const scriptDir = join(context.workDir, 'memory-script');
  const script = insertScript(profile.memoryScriptMiB);
  const scriptMB = Buffer.byteLength(script.sql) / MiB;
  await writeCorpus(scriptDir, [
    { name: '20240101000000_create_item', sql: CREATE_TABLE },
    { name: '20240101010000_backfill_items', sql: script.sql },
  ]);

  // Untimed: one child fills tsx's cache of compiled modules (and the page cache), which every child then reads.
  const tmp = join(context.workDir, 'memory-tmp');
  await mkdir(tmp, { recursive: true });
  await measureChild(context, floorDir, 2, tmp);

  const floor: Measured[] = [];
  const release: Measured[] = [];
  const large: Measured[] = [];
  for (let rep = 0; rep < profile.repetitions; rep += 1) {
    // Interleaved, so a moment of the machine does not land on one of them only.
    floor.push(await measureChild(context, floorDir, 2, tmp));
    release.push(await measureChild(context, releaseDir, n, tmp));
    large.push(await measureChild(context, scriptDir, 2, tmp));
    log(
      `  floor ${floor[rep]?.peakMB.toFixed(0)} MB, N=${n} release ${release[rep]?.peakMB.toFixed(0)} MB, ` +
        `${scriptMB.toFixed(1)} MB script ${large[rep]?.peakMB.toFixed(0)} MB peak`,
    );
  }
  await dropDatabase(serverUrl, DATABASE);

  const floorSamples = floor.map((m) => m.peakMB);
  const floorMB = median(floorSamples);
  const releasePeakMB = median(release.map((m) => m.peakMB));
  const aboveFloor = large.map((m, rep) => m.peakMB - (floor[rep] as Measured).peakMB);
  const largePeakMB = median(large.map((m) => m.peakMB));
  return [
    row('memory', {
      case: `N=${n}, release mode`,
      subject: 'apply of the corpus: peak RSS of the process',
      unit: 'MB',
      samples: release.map((m) => m.peakMB),
      baseline: { name: 'floor: the same child applying 2 migrations', samples: floorSamples },
      details: {
        migrations: n,
        releaseSqlMB: round(releaseSqlMB, 3),
        peakMB: rounded(releasePeakMB),
        floorMB: rounded(floorMB),
        aboveFloorMB: rounded(releasePeakMB - floorMB),
        targetMB: TARGET_RELEASE_MB,
        applySeconds: Math.round(median(release.map((m) => m.applyMs))) / 1000,
      },
    }),
    row('memory', {
      case: `one ${rounded(scriptMB)} MB script (INSERT ... VALUES)`,
      subject: 'apply of the script: peak RSS above the floor',
      unit: 'MB',
      samples: aboveFloor,
      baseline: { name: "the script's own size", samples: [scriptMB] },
      details: {
        scriptMB: rounded(scriptMB),
        statements: script.statements,
        rowsPerStatement: ROWS_PER_STATEMENT,
        peakMB: rounded(largePeakMB),
        floorMB: rounded(floorMB),
        timesScriptSize: rounded(median(aboveFloor) / scriptMB),
        targetTimesScriptSize: TARGET_TIMES_SCRIPT,
        applySeconds: Math.round(median(large.map((m) => m.applyMs))) / 1000,
      },
    }),
  ];
}
