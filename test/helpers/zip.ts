/**
 * Hand-crafted zip archives for the release bundle tests: any name (`../x`, `/etc/passwd`), any type in the
 * external attributes (a symbolic link), duplicate entries, and declared sizes that differ from the data (a zip
 * bomb's header). Zip writers refuse to write these; attackers do not use them.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface CraftedEntry {
  readonly name: string;
  /** The entry's uncompressed content. @default empty */
  readonly data?: Buffer;
  /** 0 stored, 8 deflate. @default 8 */
  readonly method?: number;
  /** Unix mode (file type and permissions), written as a Unix `versionMadeBy`. @default 0o100644 */
  readonly mode?: number;
  /** The uncompressed size the headers declare. @default the data's */
  readonly declaredSize?: number;
  /** The bytes stored for the entry. @default the data, deflated (or stored) */
  readonly stored?: Buffer;
  /** General purpose flags (bit 0: encrypted, bit 11: UTF-8 names). @default 0x800 */
  readonly flags?: number;
}

/** A zip of `entries`, in the given order, with no data descriptors. */
export function craftZip(entries: readonly CraftedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = entry.data ?? Buffer.alloc(0);
    const method = entry.method ?? 8;
    const stored = entry.stored ?? (method === 8 ? deflateRawSync(data) : data);
    const size = entry.declaredSize ?? data.length;
    const flags = entry.flags ?? 0x800;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10); // time
    local.writeUInt16LE(0x21, 12); // date: 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, stored);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The entries of a valid bundle: a lock file and one migration per `[name, sql]`. */
export function bundleEntries(migrations: readonly (readonly [string, string])[]): CraftedEntry[] {
  return [
    { name: 'migration_lock.toml', data: Buffer.from('provider = "postgresql"\n') },
    ...migrations.map(([name, sql]) => ({ name: `${name}/migration.sql`, data: Buffer.from(sql) })),
  ];
}
