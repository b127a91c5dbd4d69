/**
 * The embedded PostgreSQL's shared-library symlinks, which its package restores in an install script that this
 * project does not run (package.json `allowScripts`): the start restores them itself. Without them a fresh
 * install's `postgres` cannot load libicu and the whole test suite stops at the global setup.
 */
import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hydrateSymlinks, platformPackageDir } from '../../lib/local/embedded-postgres.js';

describe('hydrateSymlinks', () => {
  it('creates the links the manifest lists, relative, once', async () => {
    // Prepare: a package laid out as @embedded-postgres/<platform> is.
    const dir = await mkdtemp(join(tmpdir(), 'pg-package-'));
    await mkdir(join(dir, 'native', 'bin'), { recursive: true });
    await mkdir(join(dir, 'native', 'lib'), { recursive: true });
    await writeFile(join(dir, 'native', 'bin', 'initdb'), '');
    await writeFile(join(dir, 'native', 'lib', 'libicuuc.so.60.2'), '');
    await writeFile(
      join(dir, 'native', 'pg-symlinks.json'),
      JSON.stringify([
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' },
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so' },
      ]),
    );
    const initdb = join(dir, 'native', 'bin', 'initdb');
    // Act
    const first = await hydrateSymlinks(initdb);
    const second = await hydrateSymlinks(initdb);
    // Assess
    expect(first).toBe(2);
    expect(second).toBe(0);
    expect(readlinkSync(join(dir, 'native', 'lib', 'libicuuc.so.60'))).toBe('libicuuc.so.60.2');
    expect(readlinkSync(join(dir, 'native', 'lib', 'libicuuc.so'))).toBe('libicuuc.so.60.2');
  });

  it('finds the installed platform package from its initdb (the package exports no package.json)', async () => {
    // Prepare
    const name = `@embedded-postgres/${process.platform}-${process.arch}`;
    const { initdb } = (await import(name)) as { initdb: string };
    // Act
    const dir = platformPackageDir(initdb);
    // Assess
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).name).toBe(name);
    expect(existsSync(join(dir, 'native', 'pg-symlinks.json'))).toBe(true);
  });
});
