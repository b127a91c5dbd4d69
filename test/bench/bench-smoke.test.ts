/**
 * The benchmarks in smoke mode (tiny sizes, one repetition) against the test server, so that they cannot
 * rot. No timing is asserted: only that every benchmark produced its rows, with positive figures, and a
 * ratio wherever a baseline was measured (or the reason it could not be).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBenchmarks } from '../../bench/harness.js';
import { BenchmarkIds, type BenchResult, type BenchRow, markdownTable } from '../../bench/lib/report.js';
import { adminUrl } from '../helpers/database.js';

function expectWellFormed(row: BenchRow): void {
  expect(row.value, `${row.benchmark} ${row.case} ${row.subject}`).toBeGreaterThan(0);
  expect(row.samples.length).toBeGreaterThan(0);
  for (const value of row.samples) expect(value).toBeGreaterThan(0);
  if (row.baseline) {
    expect(row.baseline.value).toBeGreaterThan(0);
    expect(row.ratio).toBeCloseTo(row.value / row.baseline.value, 1);
  } else {
    expect(row.ratio).toBeUndefined();
    expect(row.baselineUnavailable).toMatch(/\S/);
  }
}

describe('npm run bench (smoke mode)', () => {
  it('produces rows for every benchmark, with positive figures and their ratios to the baselines', async () => {
    // Prepare / Act
    const result: BenchResult = await runBenchmarks({ serverUrl: adminUrl(), mode: 'smoke' });

    // Assess
    expect(result.mode).toBe('smoke');
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.machine.postgres).toMatch(/^\d+/);
    for (const id of BenchmarkIds) {
      expect(result.rows.filter((row) => row.benchmark === id).length, id).toBeGreaterThan(0);
    }
    for (const row of result.rows) expectWellFormed(row);
    const apply = result.rows.filter((row) => row.benchmark === 'apply-throughput');
    expect(apply.map((row) => row.subject)).toEqual(
      expect.arrayContaining(['engine, release mode', 'engine, per-migration mode']),
    );
    const packages = result.rows.filter((row) => row.benchmark === 'lambda-packages');
    expect(packages.map((row) => row.case)).toContain('apply-migrations');
    expect(packages.find((row) => row.subject === 'unzipped size')?.baseline?.published).toMatch(
      /prisma-engines/,
    );
    expect(markdownTable(result.rows).split('\n')).toHaveLength(result.rows.length + 2);
  }, 180_000);

  it('reports the psql baseline as unavailable, with the fix, when the client tools are not installed', async () => {
    // Prepare: a PATH without psql, pg_dump, pg_restore
    const emptyPath = await mkdtemp(join(tmpdir(), 'no-client-tools-'));
    try {
      // Act
      const result = await runBenchmarks({
        serverUrl: adminUrl(),
        mode: 'smoke',
        only: ['apply-throughput'],
        toolsPath: emptyPath,
      });

      // Assess
      expect(result.rows.length).toBeGreaterThan(0);
      for (const row of result.rows) {
        expectWellFormed(row);
        expect(row.baseline).toBeUndefined();
        expect(row.baselineUnavailable).toContain('apt-get install postgresql-client');
      }
      expect(result.notes.join('\n')).toContain('psql');
    } finally {
      await rm(emptyPath, { recursive: true, force: true });
    }
  }, 120_000);
});
