/**
 * Starts one PostgreSQL server for the whole test run (embedded, unless TEST_DATABASE_URL is set) and
 * hands its admin URL to the tests. Each test file creates its own databases on it.
 *
 * Every temporary file of the run (the tests' own folders, composed releases, CDK's cdk.out folders, the CLI
 * processes' caches, folders of workers killed without an exit event) goes under one directory, made here and
 * named in TMPDIR for the workers and every process they start, and removed at teardown.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type RunningPostgres, startEmbeddedPostgres } from '../../lib/local/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    /** The run's temporary directory (TMPDIR of the workers), removed at teardown. */
    testTmpDir: string;
  }
}

let server: RunningPostgres | undefined;
let runTmpDir: string | undefined;
let previousTmpDir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  previousTmpDir = process.env.TMPDIR;
  runTmpDir = await mkdtemp(join(tmpdir(), 'orchestrator-tests-'));
  // Traversable by the unprivileged user an embedded PostgreSQL runs as under root; listable by us only.
  await chmod(runTmpDir, 0o711);
  process.env.TMPDIR = runTmpDir;
  project.provide('testTmpDir', runTmpDir);
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return;
  }
  // Test data: nothing to keep after a crash, and template clones should not wait for the disk.
  server = await startEmbeddedPostgres({
    dataDir: `.data/test-${process.pid}`,
    persistent: false,
    disposable: true,
  });
  project.provide('adminDatabaseUrl', server.url);
}

export async function teardown(): Promise<void> {
  try {
    await server?.stop();
  } finally {
    if (previousTmpDir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpDir;
    if (runTmpDir !== undefined) await rm(runTmpDir, { recursive: true, force: true });
  }
}
