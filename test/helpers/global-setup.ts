/**
 * Starts one PostgreSQL server for the whole test run (embedded, unless TEST_DATABASE_URL is set) and
 * hands its admin URL to the tests. Each test file creates its own databases on it.
 */
import type { TestProject } from 'vitest/node';
import { type RunningPostgres, startEmbeddedPostgres } from '../../lib/local/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}

let server: RunningPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    project.provide('adminDatabaseUrl', external);
    return;
  }
  server = await startEmbeddedPostgres({ dataDir: `.data/test-${process.pid}`, persistent: false });
  project.provide('adminDatabaseUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
