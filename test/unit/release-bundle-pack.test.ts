/**
 * The packer (`packMigrations`, the `pack` command): deterministic bytes, and a round trip through the bundle
 * reader that gives exactly what `DirectoryMigrationSource` reads. Also the input field and the environment that
 * name bundles.
 */
import { cp, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { commandPack } from '../../bin/commands/pack.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { FileReleaseBundleSource } from '../../lambdas/shared/adapters/release-bundle/file-release-bundle-source.js';
import { packMigrations } from '../../lambdas/shared/adapters/release-bundle/zip-writer.js';
import { parseWorkflowInput } from '../../lambdas/shared/contract/input.js';
import { readEnv } from '../../lambdas/shared/runtime/env.js';
import { releaseBundleInput } from '../../lib/local/release-bundle.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';

const SAMPLE = 'prisma/migrations';
const scratch: string[] = [];

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pack-'));
  scratch.push(dir);
  return dir;
}

afterAll(async () => {
  await removeMigrationDirectories();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe('packMigrations', () => {
  it('gives the same bytes twice, and for a copy with other timestamps and stray files', async () => {
    // Prepare
    const copy = join(await scratchDir(), 'migrations');
    await cp(SAMPLE, copy, { recursive: true });
    await utimes(
      join(copy, '20250101090000_init', 'migration.sql'),
      new Date(2001, 1, 1),
      new Date(2001, 1, 1),
    );
    await writeFile(join(copy, '.DS_Store'), 'junk');

    // Act
    const first = await packMigrations(SAMPLE);
    const second = await packMigrations(SAMPLE);
    const fromCopy = await packMigrations(copy);

    // Assess
    expect(second.sha256).toBe(first.sha256);
    expect(second.zip.equals(first.zip)).toBe(true);
    expect(fromCopy.sha256).toBe(first.sha256);
  });

  it('changes the digest when a migration changes', async () => {
    const a = await packMigrations(await migrationsDirectory([['20250101090000_a', 'SELECT 1;\n']]));
    const b = await packMigrations(await migrationsDirectory([['20250101090000_a', 'SELECT 2;\n']]));
    expect(a.sha256).not.toBe(b.sha256);
  });

  it('round-trips: the reader gives the migrations and checksums DirectoryMigrationSource reads', async () => {
    // Prepare
    const packed = await packMigrations(SAMPLE);
    const file = join(await scratchDir(), 'bundle.zip');
    await writeFile(file, packed.zip);

    // Act
    const bundle = await new FileReleaseBundleSource({ path: file, sha256: packed.sha256 }).load();

    // Assess
    const direct = await new DirectoryMigrationSource(SAMPLE).load();
    expect(bundle.migrations).toEqual(direct.migrations);
    expect(packed.migrations).toEqual(direct.migrations.map(({ name, checksum }) => ({ name, checksum })));
    expect(bundle.migrations.length).toBeGreaterThan(1);
  });

  it('refuses what DirectoryMigrationSource refuses (a folder without migration.sql)', async () => {
    const dir = await migrationsDirectory([['20250101090000_a', 'SELECT 1;\n']]);
    await writeFile(join(dir, 'migration_lock.toml'), 'provider = "mysql"\n');
    await expect(packMigrations(dir)).rejects.toThrow(/provider = "mysql"/);
  });
});

describe('pack (the command)', () => {
  const output = () => {
    const lines: string[] = [];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    return {
      text: () => lines.join(''),
      restore: () => {
        out.mockRestore();
        err.mockRestore();
      },
    };
  };

  it('prints its usage with --help and exits 0', async () => {
    const io = output();
    const code = await commandPack(['--help']);
    io.restore();
    expect(code).toBe(0);
    expect(io.text()).toContain('Usage: pack <migrations dir>');
  });

  it('exits 1 with the usage without a directory, and for a directory that is not one of migrations', async () => {
    const io = output();
    const none = await commandPack([]);
    const bad = await commandPack([await scratchDir()]);
    io.restore();
    expect([none, bad]).toEqual([1, 1]);
    expect(io.text()).toContain('migration_lock.toml is missing');
  });

  it('writes the bundle and prints its sha256 and the input that names it (--json)', async () => {
    // Prepare
    const file = join(await scratchDir(), 'release.zip');
    const io = output();

    // Act
    const code = await commandPack([
      SAMPLE,
      '--out',
      file,
      '--s3-uri',
      's3://my-bucket/releases/r.zip',
      '--json',
    ]);
    io.restore();

    // Assess
    expect(code).toBe(0);
    const printed = JSON.parse(io.text());
    const packed = await packMigrations(SAMPLE);
    expect(printed.sha256).toBe(packed.sha256);
    expect((await readFile(file)).equals(packed.zip)).toBe(true);
    expect(printed.input).toEqual({
      migrations: { s3Uri: 's3://my-bucket/releases/r.zip', sha256: packed.sha256 },
    });
    expect(() => parseWorkflowInput(printed.input)).not.toThrow();
  });

  it('refuses an --s3-uri that is not s3://', async () => {
    const io = output();
    const code = await commandPack([SAMPLE, '--s3-uri', 'file:///tmp/x.zip']);
    io.restore();
    expect(code).toBe(1);
    expect(io.text()).toContain('--s3-uri');
  });
});

describe('the input field migrations', () => {
  const sha = 'ab'.repeat(32);

  it('accepts an s3:// and a file:/// URI with a digest', () => {
    expect(parseWorkflowInput({ migrations: { s3Uri: 's3://b-1/k.zip', sha256: sha } }).migrations).toEqual({
      s3Uri: 's3://b-1/k.zip',
      sha256: sha,
    });
    expect(() =>
      parseWorkflowInput({ migrations: { s3Uri: 'file:///tmp/k.zip', sha256: sha } }),
    ).not.toThrow();
  });

  it('fails when the URI, the digest or a field is wrong, naming the field', () => {
    expect(() => parseWorkflowInput({ migrations: { s3Uri: 'https://x/k.zip', sha256: sha } })).toThrow(
      /input\.migrations\.s3Uri: neither an s3:\/\/ nor a file:\/\/\/ URI/,
    );
    expect(() => parseWorkflowInput({ migrations: { s3Uri: 's3://Bad_Bucket/k.zip', sha256: sha } })).toThrow(
      /input\.migrations\.s3Uri: "Bad_Bucket" is not an S3 bucket name/,
    );
    expect(() => parseWorkflowInput({ migrations: { s3Uri: 's3://b-1/k.zip', sha256: 'abc' } })).toThrow(
      /input\.migrations\.sha256: 64 hexadecimal digits/,
    );
    expect(() => parseWorkflowInput({ migrations: { s3Uri: 's3://b-1/', sha256: sha } })).toThrow(
      /names no object/,
    );
    expect(() => parseWorkflowInput({ migrations: { s3Uri: 's3://b-1/k', sha256: sha, extra: 1 } })).toThrow(
      /input\.migrations/,
    );
  });

  it('fails in the modes that read no migrations', () => {
    expect(() =>
      parseWorkflowInput({ mode: 'backup', migrations: { s3Uri: 's3://b-1/k.zip', sha256: sha } }),
    ).toThrow(/input\.migrations: only for mode "migrate"/);
  });

  it('is built from a bundle file for the local runner (--bundle)', async () => {
    const packed = await packMigrations(SAMPLE);
    const file = join(await scratchDir(), 'with space.zip');
    await writeFile(file, packed.zip);
    const field = await releaseBundleInput(file);
    expect(field).toEqual({ s3Uri: `file://${file.replace(' ', '%20')}`, sha256: packed.sha256 });
    expect(() => parseWorkflowInput({ migrations: field })).not.toThrow();
  });
});

describe('RELEASE_BUNDLE_* in the environment', () => {
  const base = {
    TARGET_KIND: 'instance',
    TARGET_IDENTIFIER: 'app-production',
    DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
  };

  it('reads the bucket, prefix and size limit, and none without a bucket', () => {
    expect(
      readEnv({
        ...base,
        RELEASE_BUNDLE_BUCKET: 'bundles-1',
        RELEASE_BUNDLE_PREFIX: 'releases/',
        RELEASE_BUNDLE_MAX_BYTES: '2048',
      }).RELEASE_BUNDLES,
    ).toEqual({ bucket: 'bundles-1', prefix: 'releases/', maxBytes: 2048 });
    expect(readEnv(base).RELEASE_BUNDLES).toBeUndefined();
  });

  it('fails on a bad bucket, a prefix without a bucket, or a tiny limit, naming the variable', () => {
    expect(() => readEnv({ ...base, RELEASE_BUNDLE_BUCKET: 'Bad_Bucket' })).toThrow(/RELEASE_BUNDLE_BUCKET/);
    expect(() => readEnv({ ...base, RELEASE_BUNDLE_PREFIX: 'x/' })).toThrow(
      /RELEASE_BUNDLE_PREFIX: is set without/,
    );
    expect(() => readEnv({ ...base, RELEASE_BUNDLE_BUCKET: 'b-1', RELEASE_BUNDLE_MAX_BYTES: '10' })).toThrow(
      /RELEASE_BUNDLE_MAX_BYTES/,
    );
  });
});
