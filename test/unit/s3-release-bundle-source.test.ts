/**
 * The release bundle reader against real zip files (packed by `packMigrations`, and hand-crafted hostile ones),
 * served by S3 GetObject as a stream (aws-sdk-client-mock).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ReleaseBundleSource } from '../../lambdas/shared/adapters/aws/s3-release-bundle-source.js';
import { DirectoryMigrationSource } from '../../lambdas/shared/adapters/prisma/directory-migration-source.js';
import { packMigrations } from '../../lambdas/shared/adapters/release-bundle/zip-writer.js';
import { ErrorNames } from '../../lambdas/shared/contract/contract.js';
import type { ReleaseBundleLimits } from '../../lambdas/shared/domain/release-bundle.js';
import { migrationsDirectory, removeMigrationDirectories } from '../helpers/migrations.js';
import { bundleEntries, type CraftedEntry, craftZip } from '../helpers/zip.js';

const s3 = mockClient(S3Client);
const BUCKET = 'release-bundles-123';
const PREFIX = 'releases/';
const URI = `s3://${BUCKET}/${PREFIX}v1.zip`;
const ALLOWED = { bucket: BUCKET, prefix: PREFIX };

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A stream body as the SDK returns it, in chunks, counting how many chunks were pulled. */
function streamBody(bytes: Buffer, chunkSize = 1024) {
  const pulled = { chunks: 0 };
  const body = Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunkSize) {
        pulled.chunks += 1;
        yield bytes.subarray(at, at + chunkSize);
      }
    })(),
  );
  return { body: sdkStreamMixin(body), pulled };
}

/** Serves `zip` at URI and returns a source that expects `digest` (the zip's own by default). */
function serve(
  zip: Buffer,
  options: { digest?: string; limits?: Partial<ReleaseBundleLimits>; contentLength?: boolean } = {},
) {
  const { body, pulled } = streamBody(zip);
  s3.on(GetObjectCommand).resolves({
    Body: body,
    ...(options.contentLength === false ? {} : { ContentLength: zip.length }),
  });
  const source = new S3ReleaseBundleSource({
    uri: URI,
    sha256: options.digest ?? sha256(zip),
    allowed: ALLOWED,
    client: new S3Client({ region: 'us-east-1' }),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return { source, pulled };
}

async function refusal(entries: readonly CraftedEntry[], limits?: Partial<ReleaseBundleLimits>) {
  const { source } = serve(craftZip(entries), limits ? { limits } : {});
  return await source.load().then(
    () => {
      throw new Error('expected the bundle to be refused');
    },
    (error: Error) => error,
  );
}

const INIT: readonly [string, string] = ['20250101090000_init', 'CREATE TABLE "A" (id int);\n'];

beforeEach(() => {
  s3.reset();
});

afterAll(async () => {
  await removeMigrationDirectories();
});

describe('S3ReleaseBundleSource', () => {
  describe('a bundle packed from a migrations directory', () => {
    it('reads the same migrations and checksums as the directory, with one GetObject of the bucket and key', async () => {
      // Prepare
      const dir = await migrationsDirectory([
        INIT,
        ['20250102090000_more', 'ALTER TABLE "A" ADD COLUMN b text; -- é\n'],
      ]);
      const packed = await packMigrations(dir);
      const { source } = serve(packed.zip);

      // Act
      const bundle = await source.load();

      // Assess
      const direct = await new DirectoryMigrationSource(dir).load();
      expect(bundle.migrations).toEqual(direct.migrations);
      expect(bundle.provider).toBe('postgresql');
      expect(bundle.directory).toBe(URI);
      expect(bundle.source).toBe(`${URI} (sha256 ${packed.sha256.slice(0, 12)}…)`);
      expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input)).toEqual([
        { Bucket: BUCKET, Key: `${PREFIX}v1.zip` },
      ]);
    });

    it('accepts the digest in upper case', async () => {
      const packed = await packMigrations(await migrationsDirectory([INIT]));
      const { source } = serve(packed.zip, { digest: packed.sha256.toUpperCase() });
      await expect(source.load()).resolves.toMatchObject({ migrations: [{ name: INIT[0] }] });
    });
  });

  describe('digest and size', () => {
    it('refuses a bundle whose sha256 differs from the input, before parsing it', async () => {
      // Prepare: not even a zip, so only the digest check can answer first.
      const bytes = Buffer.from('not a zip at all');
      const { source } = serve(bytes, { digest: 'a'.repeat(64) });

      // Act & Assess
      const error = await source.load().catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
      expect((error as Error).message).toContain(`its sha256 is ${sha256(bytes)}`);
      expect((error as Error).message).toContain(`the execution input says ${'a'.repeat(64)}`);
      expect((error as Error).message).not.toContain('not a readable zip');
    });

    it('refuses a bundle larger than the limit from its Content-Length, reading none of it', async () => {
      const zip = craftZip(bundleEntries([INIT]));
      const { source, pulled } = serve(zip, { limits: { maxCompressedBytes: zip.length - 1 } });

      const error = await source.load().catch((e: Error) => e);

      expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
      expect((error as Error).message).toContain(
        `it is ${zip.length} bytes, more than the ${zip.length - 1}`,
      );
      expect(pulled.chunks).toBe(0);
    });

    it('stops downloading a body without Content-Length once it passes the limit', async () => {
      // Prepare: 1 MiB in 1 KiB chunks, a limit of 4 KiB.
      const { source, pulled } = serve(Buffer.alloc(1024 * 1024, 7), {
        limits: { maxCompressedBytes: 4096 },
        contentLength: false,
      });

      const error = await source.load().catch((e: Error) => e);

      expect((error as Error).message).toMatch(/at least \d+ bytes, more than the 4096 allowed/);
      expect(pulled.chunks).toBeLessThan(10);
    });
  });

  describe('hostile archives', () => {
    it('refuses zip-slip: an entry climbing out with ..', async () => {
      const error = await refusal([
        ...bundleEntries([INIT]),
        { name: '../x/migration.sql', data: Buffer.from('x') },
      ]);
      expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
      expect(error.message).toContain('entry "../x/migration.sql" climbs out of the migrations directory');
    });

    it('refuses an absolute path', async () => {
      const error = await refusal([
        ...bundleEntries([INIT]),
        { name: '/etc/cron.d/x', data: Buffer.from('x') },
      ]);
      expect(error.message).toContain('entry "/etc/cron.d/x" is an absolute path');
    });

    it('refuses a symbolic link, even one named like a migration', async () => {
      const error = await refusal([
        ...bundleEntries([]),
        { name: `${INIT[0]}/migration.sql`, data: Buffer.from('/etc/passwd'), mode: 0o120777 },
      ]);
      expect(error.message).toContain(`entry "${INIT[0]}/migration.sql" is a symbolic link`);
    });

    it('refuses duplicate entries', async () => {
      const error = await refusal([
        ...bundleEntries([INIT]),
        { name: `${INIT[0]}/migration.sql`, data: Buffer.from('DROP TABLE "A";') },
      ]);
      expect(error.message).toContain(`entry "${INIT[0]}/migration.sql" appears more than once`);
    });

    it('refuses a zip bomb from its declared ratio, before inflating anything', async () => {
      // Prepare: the bomb's stored bytes are not even valid deflate data: inflating it would fail differently.
      const error = await refusal([
        ...bundleEntries([INIT]),
        {
          name: '20250102090000_bomb/migration.sql',
          stored: Buffer.alloc(10_000, 0xff),
          declaredSize: 20 * 1024 * 1024,
        },
      ]);
      expect(error.message).toContain('entry "20250102090000_bomb/migration.sql" inflates 2097:1');
      expect(error.message).toContain('a zip bomb. Nothing was inflated.');
    });

    it('refuses a real zip bomb (64 MiB of zeros) from its declared size', async () => {
      const error = await refusal([
        ...bundleEntries([INIT]),
        { name: '20250102090000_bomb/migration.sql', data: Buffer.alloc(64 * 1024 * 1024) },
      ]);
      expect(error.message).toMatch(
        /declares 67108864 bytes uncompressed, more than the \d+ allowed per entry/,
      );
      expect(error.message).toContain('a zip bomb');
    });

    it('refuses entries whose declared total passes the limit', async () => {
      const error = await refusal(
        bundleEntries([INIT, ['20250102090000_b', 'x'.repeat(3000)], ['20250103090000_c', 'y'.repeat(3000)]]),
        { maxTotalBytes: 5000 },
      );
      expect(error.message).toContain(
        'more than 5000 bytes uncompressed in total (reached at "20250103090000_c',
      );
    });

    it('stops inflating an entry that inflates to more than its header declares', async () => {
      // Prepare: 5 MiB of zeros, declared as 1000 bytes (a ratio the central directory cannot betray).
      const error = await refusal([
        ...bundleEntries([]),
        { name: `${INIT[0]}/migration.sql`, data: Buffer.alloc(5 * 1024 * 1024), declaredSize: 1000 },
      ]);
      expect(error.message).toContain('inflates to more than the 1000 bytes its header declares: a zip bomb');
    });

    it('refuses too many entries', async () => {
      const error = await refusal(bundleEntries([INIT, ['20250102090000_b', 'x']]), { maxEntries: 2 });
      expect(error.message).toContain('it has 3 entries, more than the 2 allowed');
    });

    it('refuses a file outside the layout, and a zip of the folder instead of its contents', async () => {
      const stray = await refusal([...bundleEntries([INIT]), { name: 'README.md', data: Buffer.from('x') }]);
      expect(stray.message).toContain(`entry "README.md" is outside Prisma's layout`);
      const wrapped = await refusal([
        { name: 'migrations/migration_lock.toml', data: Buffer.from('provider = "postgresql"\n') },
      ]);
      expect(wrapped.message).toContain(
        'seems to hold the folder "migrations" itself: zip its contents instead',
      );
    });

    it('refuses a folder without migration.sql, a missing lock file and another provider', async () => {
      const folder = await refusal([...bundleEntries([INIT]), { name: '20250102090000_empty/' }]);
      expect(folder.message).toContain('migration folder "20250102090000_empty/" has no migration.sql');
      const noLock = await refusal(bundleEntries([INIT]).slice(1));
      expect(noLock.message).toContain('migration_lock.toml is missing at the root of the zip');
      const mysql = await refusal([
        { name: 'migration_lock.toml', data: Buffer.from('provider = "mysql"\n') },
        ...bundleEntries([INIT]).slice(1),
      ]);
      expect(mysql.message).toContain('provider = "mysql"');
    });

    it('refuses an encrypted entry and a backslash path', async () => {
      const encrypted = await refusal([
        ...bundleEntries([]),
        { name: `${INIT[0]}/migration.sql`, flags: 0x801 },
      ]);
      expect(encrypted.message).toContain('is encrypted');
      const backslash = await refusal([
        ...bundleEntries([INIT]),
        { name: '..\\evil.sql', data: Buffer.from('x') },
      ]);
      expect(backslash.message).toContain('contains a backslash');
    });

    it('refuses what is not a zip', async () => {
      const { source } = serve(Buffer.from('PK but not really'));
      await expect(source.load()).rejects.toThrow(/is not a readable zip archive/);
    });
  });

  describe('where it may read', () => {
    const refusedBeforeAnyCall = async (uri: string, allowed: typeof ALLOWED | undefined) => {
      const source = new S3ReleaseBundleSource({
        uri,
        sha256: 'a'.repeat(64),
        allowed,
        client: new S3Client({ region: 'us-east-1' }),
      });
      const error = await source.load().catch((e: Error) => e);
      expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
      expect(error).toMatchObject({ name: ErrorNames.InvalidInput });
      return (error as Error).message;
    };

    it('refuses another bucket and another prefix, naming the prop', async () => {
      expect(await refusedBeforeAnyCall('s3://other-bucket/releases/v1.zip', ALLOWED)).toContain(
        `outside where this orchestrator may read release bundles, s3://${BUCKET}/${PREFIX}* (the releaseBundles prop)`,
      );
      expect(await refusedBeforeAnyCall(`s3://${BUCKET}/elsewhere/v1.zip`, ALLOWED)).toContain(
        'releaseBundles prop',
      );
    });

    it('refuses every bundle when the construct has no releaseBundles prop', async () => {
      expect(await refusedBeforeAnyCall(URI, undefined)).toContain(
        'its construct has no releaseBundles prop. Set releaseBundles',
      );
    });

    it('refuses a file: URI on AWS', async () => {
      expect(await refusedBeforeAnyCall('file:///tmp/bundle.zip', ALLOWED)).toContain(
        'only the local runner reads',
      );
    });
  });

  describe('S3 faults', () => {
    const source = () =>
      new S3ReleaseBundleSource({
        uri: URI,
        sha256: 'a'.repeat(64),
        allowed: ALLOWED,
        client: new S3Client({ region: 'us-east-1' }),
      });

    it('names a missing object and how to upload it', async () => {
      s3.on(GetObjectCommand).rejects(
        new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }),
      );
      const error = await source()
        .load()
        .catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
      expect((error as Error).message).toContain(`${URI} does not exist (NoSuchKey). Upload it`);
    });

    it('makes throttling a transient fault (retried by the workflow)', async () => {
      s3.on(GetObjectCommand).rejects(
        Object.assign(new Error('Please reduce your request rate.'), {
          name: 'SlowDown',
          $metadata: { httpStatusCode: 503 },
        }),
      );
      await expect(source().load()).rejects.toMatchObject({ name: ErrorNames.TransientFault });
    });

    it('names the bucket policy and the key policy on access denied', async () => {
      s3.on(GetObjectCommand).rejects(
        Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        }),
      );
      const error = await source()
        .load()
        .catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorNames.MigrationsInvalid });
      expect((error as Error).message).toContain('kms:Decrypt');
    });
  });
});
