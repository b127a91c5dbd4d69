/**
 * How a step's function is bundled: esbuild options (ESM with a CommonJS shim, the AWS SDK clients the step
 * uses bundled in), and the files copied beside `index.mjs`: the WebAssembly of Prisma's schema engine and of
 * libpg-query, and the migrations directory.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Step } from '../../lambdas/shared/contract/contract.js';
import { LAMBDAS_DIR, PROJECT_ROOT } from './paths.js';
import { STEP_RUNTIME } from './step-profiles.js';

const requireHere = createRequire(import.meta.url);

/** The files the bundle of a step that reads the migrations carries beside index.mjs. */
export const BUNDLED_FILES = {
  /** Prisma's schema engine (WebAssembly), loaded by the migration engine adapter. */
  schemaEngine: { package: 'prisma', file: 'build/schema_engine_bg.wasm', as: 'schema_engine_bg.wasm' },
  /**
   * libpg-query (pgsql-parser's parser): its Emscripten loader reads `<__dirname>/libpg-query.wasm` when the
   * module is imported; the bundle defines `__dirname` as the bundle's directory, so the file goes beside
   * index.mjs of every bundle that contains the loader.
   */
  pgQuery: { package: 'libpg-query', file: 'wasm/libpg-query.wasm', as: 'libpg-query.wasm' },
  /** The migrations directory. */
  migrations: 'migrations',
} as const;

/** What a step's NodejsFunction is built from. */
export type StepCode = Pick<
  nodejs.NodejsFunctionProps,
  'entry' | 'handler' | 'projectRoot' | 'depsLockFilePath' | 'bundling'
>;

/**
 * The entry point and bundling of `step`'s function; `migrationsPath` (absolute) is bundled beside it with
 * Prisma's schema engine when given.
 */
export function stepCode(step: Step, migrationsPath: string | undefined): StepCode {
  return {
    entry: join(LAMBDAS_DIR, step, 'handler.ts'),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    bundling: bundlingOptions(migrationsPath),
  };
}

/**
 * The entry point and bundling of a function that is not a workflow step (`lambdas/<folder>/handler.ts`, e.g. the
 * report function): the same esbuild settings, never the migrations.
 */
export function functionCode(folder: string): StepCode {
  return {
    entry: join(LAMBDAS_DIR, folder, 'handler.ts'),
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    bundling: bundlingOptions(undefined),
  };
}

/**
 * The esbuild settings of every step's bundle, in one place: the stack passes them to `NodejsFunction`, and the
 * bench (bench/lambda-packages.ts) builds its probes with the same, so that it measures what is deployed.
 */
export const BUNDLE_SETTINGS = {
  /** esbuild's target, as `NodejsFunction` derives it from the runtime (`nodejs22.x` -> `node22`). */
  target: STEP_RUNTIME.name.replace(/^nodejs(\d+).*$/, 'node$1'),
  /** The ES module builds of dependencies that publish both (the AWS SDK's `dist-es`). */
  mainFields: ['module', 'main'],
  // ESM output: CommonJS dependencies still call require(), and Emscripten/wasm-bindgen loaders read
  // __dirname/__filename, which ESM lacks: give them the bundle's own (import.meta.dirname, Node 20.11+).
  banner:
    "import { createRequire as __orchestratorCreateRequire } from 'node:module'; " +
    'const require = __orchestratorCreateRequire(import.meta.url);',
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  /**
   * The AWS SDK clients a step imports go into its bundle, tree-shaken, instead of being loaded from the
   * runtime's copy: a fresh process then compiles one file instead of resolving and reading hundreds under
   * node_modules (cold init of an RDS-only step about 2x faster, bench/README.md), and the function runs the
   * SDK version it was tested with (package-lock.json), not whichever the runtime ships.
   */
  bundleAwsSdk: true,
  /**
   * Not minified: measured, minifying changes neither compile nor evaluation time of these bundles (V8's cost
   * follows the tokens, not the characters), and it would make the stack traces in the logs unreadable. The
   * RDS-only bundles stay under the 0.3 MB zipped target without it.
   */
  minify: false,
  sourceMap: false,
  /** The `name` of functions and classes stays as written (esbuild would otherwise rename some of them). */
  keepNames: true,
  /**
   * Packages replaced in every bundle (esbuild's `alias`, paths relative to the project root). The SDK's default
   * credential chain becomes the environment provider alone (lambdas/shared/runtime/aws/lambda-credentials.ts):
   * on Lambda the execution role's credentials are in the environment, and the chain's other links with the STS,
   * SSO and sign-in clients they embed made up a third of an RDS-only step's bundle.
   */
  alias: {
    '@aws-sdk/credential-provider-node': './lambdas/shared/runtime/aws/lambda-credentials.ts',
  },
} as const;

function bundlingOptions(migrationsPath: string | undefined): nodejs.BundlingOptions {
  return {
    format: nodejs.OutputFormat.ESM,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    banner: BUNDLE_SETTINGS.banner,
    define: { ...BUNDLE_SETTINGS.define },
    bundleAwsSDK: BUNDLE_SETTINGS.bundleAwsSdk,
    minify: BUNDLE_SETTINGS.minify,
    sourceMap: BUNDLE_SETTINGS.sourceMap,
    keepNames: BUNDLE_SETTINGS.keepNames,
    esbuildArgs: Object.fromEntries(
      Object.entries(BUNDLE_SETTINGS.alias).map(([name, path]) => [`--alias:${name}`, path]),
    ),
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => {
        const { schemaEngine, pgQuery } = BUNDLED_FILES;
        const index = shellQuote(join(outputDir, 'index.mjs'));
        // libpg-query loads its wasm when its module is imported: whichever bundle holds it needs the file.
        const commands = [
          `if grep -q ${shellQuote(pgQuery.as)} ${index}; then cp ${shellQuote(packageFile(pgQuery.package, pgQuery.file))} ${shellQuote(join(outputDir, pgQuery.as))}; fi`,
        ];
        if (!migrationsPath) return commands;
        const migrationsOut = join(outputDir, BUNDLED_FILES.migrations);
        return [
          ...commands,
          `cp ${shellQuote(packageFile(schemaEngine.package, schemaEngine.file))} ${shellQuote(join(outputDir, schemaEngine.as))}`,
          `mkdir -p ${shellQuote(migrationsOut)}`,
          `cp -R ${shellQuote(`${migrationsPath}/.`)} ${shellQuote(migrationsOut)}`,
        ];
      },
    },
  };
}

/** A file of an installed package (resolved from this project), or an error naming the package and the fix. */
function packageFile(pkg: string, file: string): string {
  let root: string;
  try {
    root = dirname(requireHere.resolve(`${pkg}/package.json`));
  } catch {
    root = join(PROJECT_ROOT, 'node_modules', pkg);
  }
  const path = join(root, file);
  if (!existsSync(path)) {
    throw new Error(
      `MigrationOrchestrator: ${path} is missing, so the functions cannot be bundled. Install the project's ` +
        `dependencies (npm ci); ${pkg} must be a dependency.`,
    );
  }
  return path;
}

/** POSIX shell single quoting. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
