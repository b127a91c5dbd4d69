/**
 * The benchmarks in smoke mode (tiny sizes, one repetition) against the test server, so that they cannot
 * rot. No timing is asserted: only that every benchmark produced its rows, with positive figures, and a
 * ratio wherever a baseline was measured (or the reason it could not be), and what some rows compare.
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
    const verification = result.rows.filter((row) => row.benchmark === 'verification');
    expect(verification.map((row) => row.subject)).toEqual([
      'verification after the release (drift by expected schema)',
      "drift check by the engine's replay (before)",
    ]);
    expect(verification[0]?.details?.driftCheck).toMatch(/preflight computed/);
    const packages = result.rows.filter((row) => row.benchmark === 'lambda-packages');
    expect(packages.map((row) => row.case)).toContain('apply-migrations');
    expect(packages.find((row) => row.subject === 'unzipped size')?.baseline?.published).toMatch(
      /prisma-engines/,
    );
    const cli = result.rows.filter((row) => row.benchmark === 'cli-noop');
    expect(cli.map((row) => row.subject)).toEqual([
      'CLI run, nothing to do (fresh process, DATABASE_URL)',
      'CLI run, nothing to do (fresh process, DATABASE_URL)',
    ]);
    expect(cli.map((row) => row.baseline?.name)).toEqual([
      'psql reading _prisma_migrations',
      `node -e "" (Node's own start)`,
    ]);
    for (const row of cli) {
      expect(row.samples).toHaveLength(1);
      expect(row.details).toMatchObject({ targetMs: 1000 });
      expect(row.details?.appliedMigrations).toBeGreaterThan(0);
      expect(row.case).toBe(`sample app, ${row.details?.appliedMigrations} applied`);
      expect(row.details?.workflowMs).toEqual(expect.any(Number));
      expect(row.details?.prismaMigrateDeployReference).toMatch(
        /^1\.2-1\.8 s \(from the issue, not measured/,
      );
    }
    const snapshots = result.rows.filter((row) => row.benchmark === 'snapshot-restore');
    expect(snapshots.map((row) => row.baseline?.name ?? row.baselineUnavailable)).toEqual([
      'pg_dump -Fc',
      'createdb + pg_restore',
      ...Array(2).fill(
        snapshots[2]?.baseline
          ? "copy of the database's files, each fsynced"
          : expect.stringMatching(/data directory|not readable/),
      ),
    ]);
    const [release, script] = result.rows.filter((row) => row.benchmark === 'memory');
    expect(release?.case).toBe('N=4, release mode');
    expect(release?.unit).toBe('MB');
    expect(release?.baseline?.name).toBe('floor: the same child applying 2 migrations');
    expect(release?.details).toMatchObject({ migrations: 4, targetMB: 256 });
    expect(release?.details?.floorMB).toBeCloseTo(release?.baseline?.value ?? Number.NaN, 0);
    expect(script?.subject).toBe('apply of the script: peak RSS above the floor');
    expect(script?.baseline?.name).toBe("the script's own size");
    expect(script?.baseline?.value).toBeCloseTo(3, 2);
    expect(script?.details).toMatchObject({ scriptMB: 3, rowsPerStatement: 1000, targetTimesScriptSize: 3 });
    expect(script?.details?.timesScriptSize).toBeCloseTo(script?.ratio ?? Number.NaN, 0);
    expect(script?.value).toBeCloseTo(Number(script?.details?.peakMB) - Number(release?.details?.floorMB), 0);
    expect(markdownTable(result.rows).split('\n')).toHaveLength(result.rows.length + 2);
  }, 240_000);

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

  it('times the CLI against node -e "" alone, and says why, when psql is not installed', async () => {
    // Prepare: a PATH without psql, pg_dump, pg_restore
    const emptyPath = await mkdtemp(join(tmpdir(), 'no-client-tools-'));
    try {
      // Act
      const result = await runBenchmarks({
        serverUrl: adminUrl(),
        mode: 'smoke',
        only: ['cli-noop'],
        toolsPath: emptyPath,
      });

      // Assess
      expect(result.rows).toHaveLength(2);
      for (const row of result.rows) expectWellFormed(row);
      const [withoutPsql, againstNode] = result.rows;
      expect(withoutPsql?.baselineUnavailable).toContain('apt-get install postgresql-client');
      expect(againstNode?.baseline?.name).toBe(`node -e "" (Node's own start)`);
      expect(result.notes.join('\n')).toContain('CLI with nothing to do: the psql baseline is unavailable');
    } finally {
      await rm(emptyPath, { recursive: true, force: true });
    }
  }, 120_000);
});
