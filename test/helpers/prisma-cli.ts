/**
 * The real Prisma CLI (7.10.1), run offline against a test database: its native schema engine cannot be
 * downloaded here, so PRISMA_SCHEMA_ENGINE_BINARY points it at the helper speaking the native engine's stdio
 * protocol over our WebAssembly engine (test/helpers/schema-engine-binary). Call `prepare()` in `beforeAll` and
 * `cleanup()` in `afterAll`.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { bundleSchemaEngineHelper, SCHEMA_ENGINE_BINARY } from './schema-engine-binary/bundle.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PRISMA_CLI = resolve(ROOT, 'node_modules/prisma/build/index.js');
const CONFIG = resolve(ROOT, 'test/fixtures/prisma-compat/prisma.config.ts');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class PrismaCli {
  private readonly buildDir = resolve(ROOT, `.data/schema-engine-helper-${process.pid}-${Date.now()}`);
  private helperBundle = '';

  async prepare(): Promise<void> {
    await mkdir(this.buildDir, { recursive: true });
    this.helperBundle = await bundleSchemaEngineHelper(this.buildDir);
  }

  async cleanup(): Promise<void> {
    await rm(this.buildDir, { recursive: true, force: true });
  }

  /** Runs `prisma <args>` against `url`, with the migrations in `migrations`, telemetry off. */
  run(args: readonly string[], url: string, migrations: string): Promise<CliResult> {
    return new Promise((resolveResult) => {
      execFile(
        process.execPath,
        [PRISMA_CLI, ...args, '--config', CONFIG],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            DATABASE_URL: url,
            PRISMA_COMPAT_MIGRATIONS: migrations,
            PRISMA_SCHEMA_ENGINE_BINARY: SCHEMA_ENGINE_BINARY,
            SCHEMA_ENGINE_HELPER_BUNDLE: this.helperBundle,
            CHECKPOINT_DISABLE: '1',
            PRISMA_HIDE_UPDATE_MESSAGE: '1',
            NO_COLOR: '1',
          },
          // A real history's `migrate diff` replays hundreds of migrations and prints a long script.
          timeout: 90_000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          resolveResult({ code, stdout, stderr });
        },
      );
    });
  }
}
