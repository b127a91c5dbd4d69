/**
 * The one test file that really bundles the functions (esbuild, locally): one synthesis, shared by the
 * tests below, whose assets are opened and checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';
import { STEP_METADATA_KEY } from '../../lib/asl.js';
import { BUNDLED_FILES } from '../../lib/orchestrator.js';
import { MIGRATIONS_DIR, synthesize } from './support.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/** The steps that only call the RDS API (prune-snapshots also Step Functions' DescribeExecution). */
const RDS_ONLY_STEPS: readonly Step[] = [
  'create-snapshot',
  'check-snapshot',
  'restore-snapshot',
  'check-restore',
  'swap',
  'prune-snapshots',
];

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

const sampleMigrations = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

let assetDirs: Map<Step, string>;

beforeAll(() => {
  // Act: one synthesis with bundling, for the whole file.
  const { json, outdir } = synthesize({ bundle: true });
  // Each function's code is the staged asset directory `asset.<hash>` named by its S3 key.
  assetDirs = new Map();
  for (const resource of Object.values(json.Resources as Record<string, Resource>)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !resource.Metadata?.[STEP_METADATA_KEY]) continue;
    const key = (resource.Properties.Code as { S3Key: string }).S3Key;
    const dir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    assetDirs.set(resource.Metadata?.[STEP_METADATA_KEY] as Step, dir);
  }
  // The size of every asset, for the report.
  const rows = Steps.map((step) => {
    const dir = assetDirs.get(step) as string;
    const files = existsSync(dir) ? filesUnder(dir) : [];
    const sizes = files.map((file) => readFileSync(join(dir, file)));
    const kib = (bytes: number) => Math.round(bytes / 1024);
    return {
      step,
      files: files.length,
      'index.mjs KiB': kib(files.includes('index.mjs') ? statSync(join(dir, 'index.mjs')).size : 0),
      'total KiB': kib(sizes.reduce((sum, bytes) => sum + bytes.length, 0)),
      'gzip KiB': kib(sizes.reduce((sum, bytes) => sum + gzipSync(bytes).length, 0)),
    };
  });
  console.table(rows);
}, 300_000);

describe('bundled function assets', () => {
  it('bundles every step as one ESM file with the createRequire banner and no Docker', () => {
    // Assess
    expect(new Set(assetDirs.keys())).toEqual(new Set(Steps));
    for (const [step, dir] of assetDirs) {
      expect(existsSync(join(dir, 'index.mjs')), step).toBe(true);
      const head = readFileSync(join(dir, 'index.mjs'), 'utf8').slice(0, 300);
      expect(head, step).toContain(
        "import { createRequire as __orchestratorCreateRequire } from 'node:module';",
      );
      expect(head, step).toContain('const require = __orchestratorCreateRequire(import.meta.url);');
    }
  });

  it("carries Prisma's schema engine, libpg-query's wasm and every migration beside the apply handler", () => {
    // Prepare
    const dir = assetDirs.get('apply-migrations') as string;
    // Act
    const files = filesUnder(dir);
    // Assess
    expect(files).toContain('index.mjs');
    expect(files).toContain(BUNDLED_FILES.schemaEngine.as);
    expect(files).toContain(BUNDLED_FILES.pgQuery.as);
    expect(files).toContain('migrations/migration_lock.toml');
    for (const migration of sampleMigrations)
      expect(files).toContain(`migrations/${migration}/migration.sql`);
    const engine = readFileSync(join(dir, BUNDLED_FILES.schemaEngine.as));
    const shipped = readFileSync(
      join(PROJECT_ROOT, 'node_modules', 'prisma', 'build', 'schema_engine_bg.wasm'),
    );
    expect(engine.equals(shipped)).toBe(true);
    // WebAssembly modules start with \0asm.
    expect(readFileSync(join(dir, BUNDLED_FILES.pgQuery.as)).subarray(0, 4)).toEqual(
      Buffer.from([0, 0x61, 0x73, 0x6d]),
    );
  });

  it('carries the same files beside the preflight handler (it reads the history and parses the SQL)', () => {
    // Assess
    const files = filesUnder(assetDirs.get('preflight') as string);
    expect(files).toEqual(
      expect.arrayContaining(['index.mjs', BUNDLED_FILES.schemaEngine.as, BUNDLED_FILES.pgQuery.as]),
    );
    for (const migration of sampleMigrations)
      expect(files).toContain(`migrations/${migration}/migration.sql`);
  });

  it('keeps the RDS-only steps free of pg, the SQL parser and the engine, and to their JavaScript alone', () => {
    // Marks each dependency leaves in a bundle: the parser's and the engine's wasm file names, pg's own error.
    const marks = {
      pg: 'Client has already been connected. You cannot reuse a client.',
      parser: BUNDLED_FILES.pgQuery.as,
      engine: BUNDLED_FILES.schemaEngine.as,
    };
    // Prepare: the marks are real (the apply step carries all three).
    const apply = readFileSync(join(assetDirs.get('apply-migrations') as string, 'index.mjs'), 'utf8');
    for (const [name, mark] of Object.entries(marks)) expect(apply, name).toContain(mark);
    // Assess
    for (const step of RDS_ONLY_STEPS) {
      const dir = assetDirs.get(step) as string;
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      for (const [name, mark] of Object.entries(marks))
        expect(code, `${step} carries ${name}`).not.toContain(mark);
      expect(filesUnder(dir), step).toEqual(['index.mjs']);
    }
  });

  it('bundles the ES module build of the AWS SDK clients a step uses, and gives loaders the bundle directory', () => {
    // Prepare: what some steps call; the marks are the clients' own source paths, which esbuild writes as a
    // comment above each bundled module.
    const uses: Partial<Record<Step, readonly string[]>> = {
      'create-snapshot': ['client-rds'],
      swap: ['client-rds'],
      'prune-snapshots': ['client-rds', 'client-sfn'],
      'verify-health': ['client-secrets-manager'],
      'apply-migrations': ['client-secrets-manager'],
    };
    const mark = (client: string) => `node_modules/@aws-sdk/${client}/dist-es/`;
    for (const [step, dir] of assetDirs) {
      // Act
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // Assess: nothing is left for the runtime's SDK to provide, in static or dynamic imports (a line of a doc
      // comment, such as Powertools Tracer's `import { S3Client } from '@aws-sdk/client-s3'` example, is no import).
      expect(code, step).not.toMatch(/^(?!\s*\*)[^\n]*\bfrom\s*["']@aws-sdk\//m);
      expect(code, step).not.toMatch(/import\(\s*["']@aws-sdk\//);
      // The ES module builds (tree-shaken), never the CommonJS ones.
      expect(code, step).not.toMatch(/node_modules\/@(aws-sdk|smithy)\/[^/]+\/dist-cjs\//);
      expect(code, step).not.toMatch(/\b__dirname\b(?!\s*[:=])/);
      for (const client of uses[step] ?? [])
        expect(code, `${step} bundles ${client}`).toContain(mark(client));
    }
    // An RDS-only step carries no client but the ones it calls.
    for (const step of RDS_ONLY_STEPS) {
      const code = readFileSync(join(assetDirs.get(step) as string, 'index.mjs'), 'utf8');
      const used = uses[step] ?? ['client-rds'];
      for (const client of [
        'client-rds',
        'client-sfn',
        'client-secrets-manager',
        'client-s3',
        'client-sns',
      ]) {
        if (!used.includes(client)) expect(code, `${step} carries ${client}`).not.toContain(mark(client));
      }
    }
  });

  it("replaces the SDK's default credential chain with Lambda's environment credentials in every bundle", () => {
    // Marks of the chain's other links and the clients they embed: their source paths, which esbuild writes
    // above each bundled module.
    const chain = [
      'node_modules/@aws-sdk/credential-provider-node/',
      'node_modules/@aws-sdk/credential-provider-ini/',
      'node_modules/@aws-sdk/credential-provider-sso/',
      'node_modules/@aws-sdk/nested-clients/',
    ];
    for (const [step, dir] of assetDirs) {
      // Act
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // Assess: the replacement is there wherever an SDK client is, the chain nowhere.
      if (code.includes('node_modules/@aws-sdk/client-'))
        expect(code, step).toContain('lambdas/shared/runtime/aws/lambda-credentials.ts');
      for (const mark of chain) expect(code, `${step} carries ${mark}`).not.toContain(mark);
    }
  });

  it('keeps every RDS-only step within 0.3 MB zipped with the SDK inside', () => {
    for (const step of RDS_ONLY_STEPS) {
      // Act: the deflate size of the asset's files (what the zip holds, give or take its headers).
      const dir = assetDirs.get(step) as string;
      const bytes = filesUnder(dir).reduce(
        (sum, file) => sum + gzipSync(readFileSync(join(dir, file)), { level: 9 }).length,
        0,
      );
      // Assess
      expect(bytes, step).toBeLessThanOrEqual(0.3 * 1024 * 1024);
    }
  });

  it('loads as an ES module exporting handler with no node_modules to resolve from', () => {
    // Prepare: the synthesis is in a temporary directory, so no node_modules is reachable from the assets:
    // a step that still imported a package from outside its bundle would fail here.
    for (const [step, dir] of assetDirs) {
      // Act
      const result = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); console.log(typeof m.handler);`,
        ],
        { encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH ?? '' } },
      );
      // Assess
      expect(result.stderr, step).toBe('');
      expect(result.stdout.trim(), step).toBe('function');
    }
  });
});
