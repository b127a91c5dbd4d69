/**
 * 5. Lambda packages: for each function asset `cdk synth` bundles, its zipped and unzipped size and the cold
 * initialisation of its handler in a fresh Node process (import of the handler module; for the apply step,
 * plus the engine's instantiation: constructor and a first call, which compiles the WebAssembly engine and
 * connects), versus the way most teams run migrations from Lambda today: the `prisma` CLI package with its
 * dependency tree (measured on disk here) and its native schema engine (a published figure: the binary
 * cannot be downloaded on this machine).
 */
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { BUNDLED_FILES } from '../lib/orchestrator.js';
import { BUNDLE_SETTINGS } from '../lib/private/bundling.js';
import { synthesizeTemplate } from '../lib/stack.js';
import { type BenchContext, DATABASE_PREFIX } from './lib/context.js';
import { dropDatabase, recreateDatabase } from './lib/postgres.js';
import { type BenchRow, row } from './lib/report.js';
import { MiB, median, round, timed } from './lib/stats.js';
import { listFiles, type PackageSize, zipSize } from './lib/zip.js';

/**
 * The native schema engine the `prisma` CLI downloads at first use (it is not in the npm package, and the
 * download host is not reachable here). Published figure, not measured.
 */
export const PUBLISHED_SCHEMA_ENGINE = {
  megabytes: 16,
  source:
    'prisma/prisma-engines pull request #3516 (merged 2022-12, "Use opt-level = s"): the x86_64 Linux ' +
    'migration-engine (since renamed schema-engine) release binary measured 16M by its author after the change',
} as const;

const PROBE_DATABASE = `${DATABASE_PREFIX}_lambda`;

export interface LambdaAsset {
  /** The step (`orchestrator:step` metadata) or the function's logical id. */
  readonly name: string;
  readonly dir: string;
  /** The handler module, e.g. index.mjs. */
  readonly handlerFile: string;
  readonly exportName: string;
}

interface TemplateFunction {
  readonly Type?: string;
  readonly Properties?: { Handler?: string; Code?: { S3Key?: unknown } };
  readonly Metadata?: Record<string, unknown>;
}

/** The functions of a template and their asset directories in `outdir`. */
async function assetsOf(template: Record<string, unknown>, outdir: string): Promise<LambdaAsset[]> {
  const resources = (template.Resources ?? {}) as Record<string, TemplateFunction>;
  const assets: LambdaAsset[] = [];
  const seen = new Set<string>();
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const key = resource.Properties?.Code?.S3Key;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    const dirName =
      typeof assetPath === 'string'
        ? assetPath
        : typeof key === 'string'
          ? `asset.${key.replace(/\.zip$/, '')}`
          : undefined;
    if (!dirName || seen.has(dirName)) continue;
    seen.add(dirName);
    const dir = join(outdir, dirName);
    const [file, exportName] = (resource.Properties?.Handler ?? 'index.handler').split('.');
    const files = await listFiles(dir).catch(() => []);
    const handlerFile =
      files.find((f) => /\/index\.(mjs|js|cjs)$/.test(f) && dirname(f) === dir) ?? join(dir, `${file}.mjs`);
    const step = resource.Metadata?.['orchestrator:step'];
    assets.push({
      name: typeof step === 'string' ? step : logicalId,
      dir,
      handlerFile,
      exportName: exportName ?? 'handler',
    });
  }
  return assets.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The esbuild options of the stack's NodejsFunction bundling (BUNDLE_SETTINGS of lib/private/bundling.ts, as
 * `NodejsFunction` passes them to esbuild), for the probes.
 */
export function esbuildOptions(projectRoot: string): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_SETTINGS.target,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    // NodejsFunction's externals: none when the AWS SDK is bundled, else the runtime's `@aws-sdk/*`.
    external: BUNDLE_SETTINGS.bundleAwsSdk ? [] : ['@aws-sdk/*'],
    banner: { js: BUNDLE_SETTINGS.banner },
    define: { ...BUNDLE_SETTINGS.define },
    minify: BUNDLE_SETTINGS.minify,
    sourcemap: BUNDLE_SETTINGS.sourceMap,
    keepNames: BUNDLE_SETTINGS.keepNames,
    alias: { ...BUNDLE_SETTINGS.alias },
    logLevel: 'silent',
    absWorkingDir: projectRoot,
  };
}

/** Bundles the apply step with esbuild as the stack does, with the files its bundle carries (smoke mode). */
async function bundleApplyStep(context: BenchContext): Promise<LambdaAsset> {
  const dir = join(context.workDir, 'esbuild-apply-migrations');
  await mkdir(dir, { recursive: true });
  await build({
    ...esbuildOptions(context.projectRoot),
    entryPoints: [join(context.projectRoot, 'lambdas', 'apply-migrations', 'handler.ts')],
    outfile: join(dir, 'index.mjs'),
  });
  const require = createRequire(join(context.projectRoot, 'package.json'));
  for (const file of [BUNDLED_FILES.schemaEngine, BUNDLED_FILES.pgQuery]) {
    const root = dirname(require.resolve(`${file.package}/package.json`));
    await cp(join(root, file.file), join(dir, file.as));
  }
  await cp(join(context.projectRoot, 'prisma', 'migrations'), join(dir, BUNDLED_FILES.migrations), {
    recursive: true,
  });
  return { name: 'apply-migrations', dir, handlerFile: join(dir, 'index.mjs'), exportName: 'handler' };
}

/** The cloud assembly to measure: synthesized now (full), or an existing one, or one function bundled. */
async function obtainAssets(
  context: BenchContext,
): Promise<{ assets: LambdaAsset[]; how: string; seconds: number }> {
  const started = performance.now();
  if (context.profile.lambdaAssets === 'synth') {
    const outdir = join(context.projectRoot, '.bench', 'cdk.out');
    await rm(outdir, { recursive: true, force: true });
    const template = synthesizeTemplate({ bundle: true, outdir });
    const assets = await assetsOf(template, outdir);
    return { assets, how: 'cdk synth (bundled)', seconds: (performance.now() - started) / 1000 };
  }
  const outdirs = context.profile.lambdaAssets === 'reuse' ? ['.bench/cdk.out', 'cdk.out'] : [];
  for (const outdir of outdirs.map((dir) => join(context.projectRoot, dir))) {
    const files = await listFiles(outdir).catch(() => [] as string[]);
    const templateFile = files.find((f) => f.endsWith('.template.json') && dirname(f) === outdir);
    if (!templateFile) continue;
    const template = JSON.parse(await readFile(templateFile, 'utf8')) as Record<string, unknown>;
    const assets = (await assetsOf(template, outdir)).filter((a) => files.includes(a.handlerFile));
    if (assets.length > 0) return { assets, how: `existing ${outdir}`, seconds: 0 };
  }
  const asset = await bundleApplyStep(context);
  return { assets: [asset], how: 'esbuild (apply step only)', seconds: (performance.now() - started) / 1000 };
}

/**
 * A probe beside the apply step's handler (a copy of its directory, so the engine finds its WebAssembly
 * where the bundle has it): constructs the engine and loads it (compiles and instantiates the WebAssembly,
 * what the first apply of a cold container pays), in the fresh process that imported the handler.
 */
async function buildEngineProbe(context: BenchContext, asset: LambdaAsset): Promise<string> {
  const dir = join(context.workDir, `probe-${asset.name}`);
  await rm(dir, { recursive: true, force: true });
  await cp(asset.dir, dir, { recursive: true });
  const adapters = join(context.projectRoot, 'lambdas', 'shared', 'adapters');
  await build({
    ...esbuildOptions(context.projectRoot),
    stdin: {
      contents:
        `import { PrismaMigrationEngine } from ${JSON.stringify(join(adapters, 'prisma', 'migration-engine.ts'))};\n` +
        `import { loadSchemaEngine } from ${JSON.stringify(join(adapters, 'prisma', 'schema-engine-wasm.ts'))};\n` +
        'export async function instantiate(connectionString) {\n' +
        '  const engine = new PrismaMigrationEngine({ connectionString });\n' +
        '  await loadSchemaEngine();\n' +
        '  await engine.close();\n' +
        '}\n',
      resolveDir: context.projectRoot,
      sourcefile: 'engine-probe.ts',
      loader: 'ts',
    },
    outfile: join(dir, 'engine-probe.mjs'),
  });
  return join(dir, 'engine-probe.mjs');
}

/** The line of a child's error output that says what went wrong (not the stack). */
function firstErrorLine(message: string): string {
  const lines = message.split('\n').map((line) => line.trim());
  const line =
    lines.find((l) => /Error|ENOENT|Cannot find/.test(l) && !l.startsWith('at ')) ?? lines[0] ?? message;
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

/** What the fresh process runs: import the handler; optionally instantiate the engine through the probe. */
const CHILD_SCRIPT = `
const [handlerUrl, exportName, probeUrl] = process.argv.slice(1);
const t0 = performance.now();
const mod = await import(handlerUrl);
if (typeof mod[exportName] !== 'function') throw new Error('the module exports no ' + exportName + ' function');
const t1 = performance.now();
let engineMs = 0;
if (probeUrl) {
  const probe = await import(probeUrl);
  const t2 = performance.now();
  await probe.instantiate(process.env.BENCH_PROBE_DATABASE_URL);
  engineMs = performance.now() - t2;
}
process.stdout.write(JSON.stringify({ importMs: t1 - t0, readyMs: t1, engineMs }));
`;

interface ColdStart {
  readonly wallMs: number;
  readonly importMs: number;
  readonly readyMs: number;
  readonly engineMs: number;
}

async function runNode(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ ms: number; out: string; err: string }> {
  return await new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0)
        resolve({ ms, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') });
      else reject(new Error(`node exited with ${code}:\n${Buffer.concat(err).toString('utf8')}`));
    });
  });
}

async function coldStart(
  asset: LambdaAsset,
  probe: string | undefined,
  probeUrl: string,
): Promise<ColdStart> {
  const env = {
    ...process.env,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    NODE_OPTIONS: '',
    BENCH_PROBE_DATABASE_URL: probeUrl,
  };
  const args = [
    '--input-type=module',
    '-e',
    CHILD_SCRIPT,
    pathToFileURL(asset.handlerFile).href,
    asset.exportName,
    ...(probe ? [pathToFileURL(probe).href] : []),
  ];
  const { ms, out } = await runNode(args, env, asset.dir);
  const parsed = JSON.parse(out) as { importMs: number; readyMs: number; engineMs: number };
  return { wallMs: ms, ...parsed };
}

/**
 * The `prisma` CLI's start in a fresh process: from the process start to its exit after printing its help
 * (the commands that would run a migration first need the native engine, which cannot be downloaded here).
 * Measured inside the process, like our handlers, so that spawning the process counts for neither.
 */
export async function prismaCliStart(context: BenchContext): Promise<number> {
  const timer = join(context.workDir, 'exit-timer.mjs');
  await writeFile(
    timer,
    [
      "import { writeSync } from 'node:fs';",
      "process.on('exit', () => writeSync(2, '\\n@@exit ' + performance.now() + '\\n'));",
      '',
    ].join('\n'),
  );
  const prismaBin = join(context.projectRoot, 'node_modules', 'prisma', 'build', 'index.js');
  const env = { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1', NODE_OPTIONS: '' };
  const { err } = await runNode(
    ['--import', pathToFileURL(timer).href, prismaBin, '--help'],
    env,
    context.workDir,
  );
  const match = /@@exit ([\d.]+)/.exec(err);
  if (!match?.[1]) throw new Error('the prisma CLI did not report its exit time');
  return Number(match[1]);
}

/** The installed `prisma` package and every package it depends on (not its peers), as directories. */
async function prismaCliTree(projectRoot: string): Promise<string[]> {
  const found = new Map<string, string>();
  const visit = async (name: string, fromDir: string): Promise<void> => {
    let dir: string | undefined;
    for (let at = fromDir; ; at = dirname(at)) {
      const candidate = join(at, 'node_modules', name);
      const manifest = await readFile(join(candidate, 'package.json'), 'utf8').catch(() => undefined);
      if (manifest) {
        dir = await realpath(candidate);
        break;
      }
      if (dirname(at) === at) break;
    }
    if (!dir || found.has(dir)) return;
    found.set(dir, name);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      await visit(dep, dir);
    }
  };
  await visit('prisma', projectRoot);
  return [...found.keys()];
}

/** Sizes of the `prisma` CLI's dependency tree (each package's own files; nested node_modules are packages of their own). */
export async function prismaCliSize(
  projectRoot: string,
  zipLevel = 9,
): Promise<PackageSize & { packages: number }> {
  const dirs = await prismaCliTree(projectRoot);
  const files: string[] = [];
  for (const dir of dirs) {
    files.push(...(await listFiles(dir)).filter((f) => !f.slice(dir.length).includes('/node_modules/')));
  }
  const size = await zipSize(files, projectRoot, zipLevel);
  return { ...size, packages: dirs.length };
}

export async function lambdaPackages(context: BenchContext): Promise<BenchRow[]> {
  const { profile, log } = context;
  const { assets, how, seconds } = await obtainAssets(context);
  if (assets.length === 0) throw new Error(`no Lambda function asset found (${how})`);
  log(`  ${assets.length} function asset(s) from ${how}${seconds > 0 ? ` in ${seconds.toFixed(1)} s` : ''}`);

  const cli = await timed(() => prismaCliSize(context.projectRoot, profile.zipLevel));
  log(
    `  prisma CLI tree: ${cli.value.packages} packages, ${(cli.value.unzippedBytes / MiB).toFixed(1)} MB, ` +
      `zipped ${(cli.value.zippedBytes / MiB).toFixed(1)} MB (${(cli.ms / 1000).toFixed(1)} s to measure)`,
  );
  const cliStarts: number[] = [];
  for (let i = 0; i < profile.coldStarts; i += 1) cliStarts.push(await prismaCliStart(context));

  const probeUrl = await recreateDatabase(context.serverUrl, PROBE_DATABASE);
  const rows: BenchRow[] = [];
  const unzippedBaseline = {
    name: `prisma CLI tree (measured) + schema engine ${PUBLISHED_SCHEMA_ENGINE.megabytes} MB (published)`,
    samples: [cli.value.unzippedBytes / MiB + PUBLISHED_SCHEMA_ENGINE.megabytes],
    published: PUBLISHED_SCHEMA_ENGINE.source,
  };
  const zippedBaseline = {
    name: 'prisma CLI tree zipped (measured; engine not included)',
    samples: [cli.value.zippedBytes / MiB],
  };
  const initBaseline = { name: 'prisma --help, fresh process (no engine)', samples: cliStarts };
  for (const asset of assets) {
    const size = await zipSize(await listFiles(asset.dir), asset.dir, profile.zipLevel);
    const probe = asset.name === 'apply-migrations' ? await buildEngineProbe(context, asset) : undefined;
    const starts: ColdStart[] = [];
    let failure: string | undefined;
    for (let i = 0; i < profile.coldStarts && !failure; i += 1) {
      try {
        starts.push(await coldStart(asset, probe, probeUrl));
      } catch (error) {
        failure = firstErrorLine((error as Error).message);
      }
    }
    if (failure) {
      context.note(
        `Lambda packages: the ${asset.name} handler (${asset.handlerFile.slice(context.projectRoot.length + 1)}) ` +
          `failed to initialise in a fresh Node process, so it has no cold-start figure: ${failure}`,
      );
      log(`  ${asset.name}: ${(size.unzippedBytes / MiB).toFixed(2)} MB, cold init FAILED: ${failure}`);
    }
    const init = starts.map((s) => s.readyMs + s.engineMs);
    if (!failure) {
      log(
        `  ${asset.name}: ${(size.unzippedBytes / MiB).toFixed(2)} MB, zipped ${(size.zippedBytes / MiB).toFixed(2)} MB, ` +
          `cold init ${median(init).toFixed(0)} ms${probe ? ` (engine ${median(starts.map((s) => s.engineMs)).toFixed(0)} ms)` : ''}`,
      );
    }
    const details = {
      files: size.files,
      assets: how,
      ...(failure
        ? { coldInitFailed: failure }
        : {
            handlerImportMs: round(median(starts.map((s) => s.importMs))),
            processWallMs: round(median(starts.map((s) => s.wallMs))),
            ...(probe ? { engineInstantiationMs: round(median(starts.map((s) => s.engineMs))) } : {}),
          }),
    };
    rows.push(
      row('lambda-packages', {
        case: asset.name,
        subject: 'zipped size',
        unit: 'MB',
        samples: [size.zippedBytes / MiB],
        baseline: zippedBaseline,
        details,
      }),
      row('lambda-packages', {
        case: asset.name,
        subject: 'unzipped size',
        unit: 'MB',
        samples: [size.unzippedBytes / MiB],
        baseline: unzippedBaseline,
      }),
    );
    if (!failure) {
      rows.push(
        row('lambda-packages', {
          case: asset.name,
          subject: probe ? 'cold init: import + engine instantiation' : 'cold init: handler import',
          unit: 'ms',
          samples: init,
          baseline: initBaseline,
        }),
      );
    }
  }
  await dropDatabase(context.serverUrl, PROBE_DATABASE);
  return rows;
}
