/**
 * The embedded PostgreSQL as root: what the unprivileged server user must reach goes into a private directory
 * (mkdtemp), checked for owner and mode before use, never into a predictable shared path.
 */
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkPrivateDirectory,
  privateRuntimeDirectory,
  startEmbeddedPostgres,
  UnsafeDirectoryError,
} from '../../lib/local/embedded-postgres.js';

const uid = process.getuid?.() ?? 0;
const isRoot = uid === 0;
const created: string[] = [];

async function scratch(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** A directory that is not ours: one the test gives away (as root), or a system one (as another user). */
async function foreignDirectory(): Promise<string> {
  if (!isRoot) return '/usr';
  const dir = await scratch('planted-');
  await chown(dir, 4242, 4242);
  return dir;
}

afterAll(async () => {
  for (const dir of created) await rm(dir, { recursive: true, force: true });
});

describe('checkPrivateDirectory', () => {
  it('accepts a directory of ours that only we can write', async () => {
    const dir = await scratch('private-');
    await chmod(dir, 0o711);
    await expect(checkPrivateDirectory(dir, uid)).resolves.toBeUndefined();
  });

  it('fails when the directory belongs to another user, naming it', async () => {
    const dir = await foreignDirectory();
    const error = await checkPrivateDirectory(dir, uid).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UnsafeDirectoryError);
    expect((error as Error).message).toContain(`${dir} belongs to uid`);
    expect((error as Error).message).toContain('another user may have planted it');
  });

  it.each(['0777', '0775', '0757'])(
    'fails when the directory is group or world writable (mode %s), naming it',
    async (mode) => {
      const dir = await scratch('writable-');
      await chmod(dir, mode);
      const error = await checkPrivateDirectory(dir, uid).catch((e: Error) => e);
      expect(error).toBeInstanceOf(UnsafeDirectoryError);
      expect((error as Error).message).toContain(`${dir} is writable by its group or by everyone`);
    },
  );

  it('fails when the path is a symbolic link to a directory', async () => {
    const dir = await scratch('target-');
    const link = join(await scratch('links-'), 'link');
    await symlink(dir, link);
    const error = await checkPrivateDirectory(link, uid).catch((e: Error) => e);
    expect(error).toBeInstanceOf(UnsafeDirectoryError);
    expect((error as Error).message).toContain(`${link} is not a directory of its own`);
  });
});

describe('privateRuntimeDirectory', () => {
  it('makes an unpredictable directory of ours (mode 0711) and finds it again through its pointer file', async () => {
    // Prepare
    const pointer = join(await scratch('checkout-'), 'embedded-pg.runtime');

    // Act
    const first = await privateRuntimeDirectory(pointer);
    created.push(first);
    const second = await privateRuntimeDirectory(pointer);
    const other = await privateRuntimeDirectory(join(await scratch('checkout-'), 'embedded-pg.runtime'));
    created.push(other);

    // Assess
    expect(second).toBe(first);
    expect(other).not.toBe(first);
    expect(basename(first)).toMatch(/^embedded-postgres-[A-Za-z0-9]{6}$/);
    const info = await stat(first);
    expect(info.uid).toBe(uid);
    expect(info.mode & 0o777).toBe(0o711);
    expect((await readFile(pointer, 'utf8')).trim()).toBe(first);
  });

  it('fails, naming the directory, when the one its pointer names was replaced by another user or opened up', async () => {
    // Prepare
    const pointer = join(await scratch('checkout-'), 'embedded-pg.runtime');
    const dir = await privateRuntimeDirectory(pointer);
    created.push(dir);
    await chmod(dir, 0o777);

    // Act
    const error = await privateRuntimeDirectory(pointer).catch((e: Error) => e);

    // Assess
    expect(error).toBeInstanceOf(UnsafeDirectoryError);
    expect((error as Error).message).toContain(dir);
  });
});

describe('startEmbeddedPostgres as root with a data directory the server user cannot reach', () => {
  it('keeps the data in a private directory and refuses it once another user took it over', async () => {
    // Prepare: a checkout the server user cannot enter (mode 0700, ours), as under /root.
    const checkout = await scratch('private-checkout-');
    await chmod(checkout, 0o700);
    const dataDir = join(checkout, '.data', 'pg');
    const logs: string[] = [];
    const onLog = (line: string) => logs.push(line);

    // Act: a persistent cluster, started and stopped.
    const server = await startEmbeddedPostgres({ dataDir, persistent: true, onLog });
    await server.stop();

    // Assess
    const pointer = `${dataDir}.runtime`;
    if (!isRoot) {
      // Not root: PostgreSQL runs as us, reaches the checkout, and nothing moves out of it.
      expect(existsSync(pointer)).toBe(false);
      expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
      return;
    }
    const runtime = (await readFile(pointer, 'utf8')).trim();
    created.push(runtime);
    expect(logs.join('')).toContain(`keeping the data in ${join(runtime, 'data')}`);
    expect(basename(runtime)).toMatch(/^embedded-postgres-[A-Za-z0-9]{6}$/);
    expect(existsSync(join(runtime, 'data', 'PG_VERSION'))).toBe(true);

    // Act: another user takes the directory over; the next start must refuse it, naming it.
    await chown(runtime, 4242, 4242);
    const refused = await startEmbeddedPostgres({ dataDir, persistent: true, onLog }).catch((e: Error) => e);

    // Assess
    expect(refused).toBeInstanceOf(UnsafeDirectoryError);
    expect((refused as Error).message).toContain(`${runtime} belongs to uid 4242`);
  });
});
