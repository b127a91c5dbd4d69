/**
 * `npx tsx bench/cold-start-variants.ts`: the cold initialisation of some steps' handlers under variants of the
 * bundling, measured side by side in one run (rounds interleave the variants, so a machine whose load changes
 * during the run slows every variant alike). Each figure is the median over fresh Node processes of the time from
 * the process start to the handler imported (`performance.now()`, as bench/lambda-packages.ts measures it), and
 * of the process's CPU time at that point (user + system, steadier than wall time on a shared machine). The floor:
 * the same fresh process importing a one-line module. COLD_START_ROUNDS (default 9) sets the number of processes.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { BUNDLED_FILES } from '../lib/orchestrator.js';
import { PROJECT_ROOT } from '../lib/private/paths.js';
import { esbuildOptions } from './lambda-packages.js';
import { median } from './lib/stats.js';

const STEPS = ['create-snapshot', 'swap', 'prune-snapshots', 'verify-health', 'apply-migrations'] as const;

/** Each variant changes the stack's options (esbuildOptions) in one respect. */
const VARIANTS: Record<string, (options: BuildOptions) => BuildOptions> = {
  'SDK external (runtime copy)': (o) => ({ ...o, external: ['@aws-sdk/*'] }),
  'SDK bundled (the stack)': (o) => o,
  'SDK bundled, minified': (o) => ({ ...o, minify: true }),
};

const CHILD = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
if (typeof mod.handler !== 'function') throw new Error('no handler');
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ readyMs: performance.now(), importMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

interface Sample {
  readonly readyMs: number;
  readonly importMs: number;
  readonly cpuMs: number;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.COLD_START_ROUNDS ?? 9);
  const workDir = join(PROJECT_ROOT, '.bench', 'cold-start-variants');
  await rm(workDir, { recursive: true, force: true });
  const require = createRequire(join(PROJECT_ROOT, 'package.json'));
  const modules = new Map<string, { file: string; bytes: number }>();
  for (const step of STEPS) {
    for (const [variant, change] of Object.entries(VARIANTS)) {
      const dir = join(workDir, variant.replace(/\W+/g, '-'), step);
      await mkdir(dir, { recursive: true });
      await build({
        ...change(esbuildOptions(PROJECT_ROOT)),
        entryPoints: [join(PROJECT_ROOT, 'lambdas', step, 'handler.ts')],
        outfile: join(dir, 'index.mjs'),
      });
      for (const file of [BUNDLED_FILES.schemaEngine, BUNDLED_FILES.pgQuery]) {
        const root = dirname(require.resolve(`${file.package}/package.json`));
        await copyFile(join(root, file.file), join(dir, file.as));
      }
      const bytes = (await readFile(join(dir, 'index.mjs'))).length;
      modules.set(`${step} | ${variant}`, { file: join(dir, 'index.mjs'), bytes });
    }
  }
  await writeFile(join(workDir, 'empty.mjs'), 'export const handler = () => undefined;\n');
  modules.set('floor: a one-line module | -', { file: join(workDir, 'empty.mjs'), bytes: 0 });

  const samples = new Map<string, Sample[]>([...modules.keys()].map((key) => [key, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [key, { file }] of modules) {
      const child = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', CHILD, pathToFileURL(file).href],
        {
          encoding: 'utf8',
          cwd: dirname(file),
          env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
        },
      );
      if (child.status !== 0) throw new Error(`${key}: ${child.stderr.split('\n').slice(0, 5).join('\n')}`);
      samples.get(key)?.push(JSON.parse(child.stdout) as Sample);
    }
  }
  console.log(`${rounds} fresh processes each, ${new Date().toISOString()}, Node ${process.version}\n`);
  console.log('| step | variant | index.mjs | ready (ms) | of which import | CPU at ready (ms) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [key, { bytes }] of modules) {
    const list = samples.get(key) ?? [];
    const [step, variant] = key.split(' | ');
    const figure = (pick: (s: Sample) => number) => median(list.map(pick)).toFixed(0);
    console.log(
      `| ${step} | ${variant} | ${bytes ? `${(bytes / 1024).toFixed(0)} KB` : '-'} | ${figure((s) => s.readyMs)} | ` +
        `${figure((s) => s.importMs)} | ${figure((s) => s.cpuMs)} |`,
    );
  }
}

await main();
