/**
 * A child process of the memory benchmark (bench/memory.ts):
 *
 *   BENCH_MEMORY_DATABASE_URL=postgres://... [BENCH_MEMORY_VERDICTS='{"digest":...}'] \
 *     node --import tsx bench/memory-child.ts <migrations dir> <expected>
 *
 * applies the migrations of the directory to the (empty) database the way the apply step does (`applyWithEngine`:
 * load the directory, start the engine, apply in release mode with preflight's verdicts when given, close), checks
 * that `<expected>` were applied, and
 * prints one JSON line (`MemoryChildResult`): the process's peak resident set (`process.resourceUsage().maxRSS`,
 * KiB) and the apply's wall time. The URL comes through the environment, not the command line (other users can
 * read a command line). The engine logs JSON lines on stdout too: the result is the line with `maxRssKiB`.
 */
import { performance } from 'node:perf_hooks';
import { applyWithEngine } from './apply-throughput.js';

export interface MemoryChildResult {
  readonly applied: number;
  readonly applyMs: number;
  /** Peak resident set size of the whole process, in KiB. */
  readonly maxRssKiB: number;
}

const [dir, expectedText] = process.argv.slice(2);
const url = process.env.BENCH_MEMORY_DATABASE_URL;
const expected = Number(expectedText);
if (!dir || !url || !Number.isInteger(expected)) {
  process.stderr.write(
    'usage: BENCH_MEMORY_DATABASE_URL=postgres://... node --import tsx bench/memory-child.ts <migrations dir> <expected count>\n',
  );
  process.exit(2);
}
const started = performance.now();
const verdicts = process.env.BENCH_MEMORY_VERDICTS;
const applied = await applyWithEngine(url, dir, 'release', verdicts ? JSON.parse(verdicts) : undefined);
const applyMs = performance.now() - started;
if (applied !== expected) {
  process.stderr.write(`applied ${applied} migrations of ${dir}, expected ${expected}\n`);
  process.exit(1);
}
const result: MemoryChildResult = { applied, applyMs, maxRssKiB: process.resourceUsage().maxRSS };
process.stdout.write(`${JSON.stringify(result)}\n`);
