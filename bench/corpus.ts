/**
 * A generated corpus of realistic Prisma migrations: the history of an application that grows over time.
 * Tables with relations, columns added and renamed, indexes, check and unique constraints, enums, reference
 * data seeded with `generate_series`, PL/pgSQL trigger functions (long `$$` bodies), and data backfills (add a column, fill it from existing rows, then make
 * it NOT NULL), written the way `prisma migrate dev` writes them (quoted identifiers, `-- CreateTable`
 * comments, `TIMESTAMP(3)`, named constraints).
 *
 * The corpus is deterministic and a prefix of itself: the first 50 migrations of the 800 corpus are the 50
 * corpus, so the N = 50, 200, 800 figures measure the same kinds of migrations. Every migration is valid
 * inside one transaction (no `CONCURRENTLY`), in autocommit mode (psql), and after all earlier ones.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type ColumnType = 'text' | 'varchar' | 'int' | 'bool' | 'timestamp' | 'decimal' | 'jsonb' | 'enum';

interface Column {
  name: string;
  type: ColumnType;
  /** The enum type's name, for `enum` columns. */
  enumName?: string;
  nullable: boolean;
  /** Holds unique values (seeded from the row number). */
  unique?: boolean;
}

interface Table {
  name: string;
  columns: Column[];
  rows: number;
  /** Foreign key columns and the table they reference. */
  relations: { column: string; target: string }[];
}

interface EnumType {
  name: string;
  values: string[];
}

/** A small deterministic PRNG (mulberry32), so the corpus is the same on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOUNS = [
  'Account',
  'Invoice',
  'Payment',
  'Subscription',
  'Plan',
  'Team',
  'Member',
  'Invitation',
  'Project',
  'Task',
  'Comment',
  'Attachment',
  'Label',
  'Milestone',
  'Release',
  'Deployment',
  'Environment',
  'Secret',
  'Webhook',
  'Delivery',
  'AuditEvent',
  'Notification',
  'Preference',
  'Session',
  'ApiKey',
  'Organization',
  'Workspace',
  'Document',
  'Revision',
  'Folder',
  'Tag',
  'Customer',
  'Order',
  'OrderItem',
  'Product',
  'Price',
  'Coupon',
  'Shipment',
  'Address',
  'Warehouse',
  'StockLevel',
  'Supplier',
  'Refund',
  'Dispute',
  'Report',
  'Dashboard',
  'Widget',
  'Metric',
  'Alert',
  'Incident',
];
const FIELDS = [
  'title',
  'summary',
  'status',
  'reference',
  'externalId',
  'notes',
  'priority',
  'amount',
  'currency',
  'region',
  'locale',
  'timezone',
  'source',
  'channel',
  'score',
  'weight',
  'position',
  'color',
  'icon',
  'slug',
  'description',
  'category',
  'kind',
  'quantity',
  'total',
  'discount',
  'archived',
  'visibility',
  'metadata',
  'settings',
  'startsAt',
  'endsAt',
  'expiresAt',
  'verifiedAt',
  'lastSeenAt',
  'version',
  'checksum',
  'url',
];
const ENUM_VALUES = [
  ['DRAFT', 'ACTIVE', 'ARCHIVED'],
  ['LOW', 'MEDIUM', 'HIGH', 'URGENT'],
  ['PENDING', 'PAID', 'FAILED', 'REFUNDED'],
  ['PUBLIC', 'INTERNAL', 'PRIVATE'],
  ['EMAIL', 'SMS', 'PUSH', 'WEBHOOK'],
];
const KINDS = [
  { kind: 'createTable', weight: 24 },
  { kind: 'addColumns', weight: 20 },
  { kind: 'addIndex', weight: 14 },
  { kind: 'backfill', weight: 13 },
  { kind: 'addConstraint', weight: 8 },
  { kind: 'seedData', weight: 7 },
  { kind: 'enumColumn', weight: 5 },
  { kind: 'renameColumn', weight: 4 },
  { kind: 'alterType', weight: 3 },
  { kind: 'dropColumn', weight: 2 },
  { kind: 'trigger', weight: 3 },
] as const;
type Kind = (typeof KINDS)[number]['kind'];

const SQL_TYPE: Record<Exclude<ColumnType, 'enum'>, string> = {
  text: 'TEXT',
  varchar: 'VARCHAR(191)',
  int: 'INTEGER',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMP(3)',
  decimal: 'DECIMAL(65,30)',
  jsonb: 'JSONB',
};

function q(name: string): string {
  return `"${name}"`;
}

function sqlType(column: Column): string {
  return column.type === 'enum' ? q(column.enumName ?? 'Status') : SQL_TYPE[column.type];
}

/** A default for a column added to a table that may have rows (so NOT NULL columns can be added). */
function defaultFor(column: Column, enums: Map<string, EnumType>): string {
  switch (column.type) {
    case 'text':
    case 'varchar':
      return "''";
    case 'int':
      return '0';
    case 'bool':
      return 'false';
    case 'timestamp':
      return 'CURRENT_TIMESTAMP';
    case 'decimal':
      return '0';
    case 'jsonb':
      return `'{}'`;
    case 'enum':
      return `'${enums.get(column.enumName ?? '')?.values[0] ?? 'DRAFT'}'`;
  }
}

/** The value of `column` in seeded row `g` (an integer expression of generate_series). */
function seedValue(
  column: Column,
  table: Table,
  tables: Map<string, Table>,
  enums: Map<string, EnumType>,
): string {
  const relation = table.relations.find((r) => r.column === column.name);
  if (relation) {
    const target = tables.get(relation.target);
    return target && target.rows > 0 ? `1 + (g * 7) % ${target.rows}` : 'NULL';
  }
  switch (column.type) {
    case 'text':
      return column.unique
        ? `'${column.name}-' || g`
        : `'${column.name} ' || g || ' ' || left(md5(g::text), 10)`;
    case 'varchar':
      return column.unique ? `'${column.name.toLowerCase()}-' || g` : `left(md5('${column.name}' || g), 16)`;
    case 'int':
      return 'g % 1000';
    case 'bool':
      return 'g % 3 = 0';
    case 'timestamp':
      return `TIMESTAMP '2024-01-01' + g * INTERVAL '37 minutes'`;
    case 'decimal':
      return '(g % 500) * 1.25';
    case 'jsonb':
      return `jsonb_build_object('rank', g, 'source', 'seed')`;
    case 'enum': {
      const values = enums.get(column.enumName ?? '')?.values ?? ['DRAFT'];
      return `(ARRAY[${values.map((v) => `'${v}'`).join(', ')}]::${q(column.enumName ?? '')}[])[1 + g % ${values.length}]`;
    }
  }
}

interface Generated {
  readonly name: string;
  readonly sql: string;
}

class CorpusGenerator {
  private readonly random = prng(20250101);
  private readonly tables = new Map<string, Table>();
  private readonly enums = new Map<string, EnumType>();
  private tableCount = 0;
  private fieldCount = 0;
  private indexCount = 0;
  /** Column names in use anywhere, so a new column never collides with an existing one. */
  private readonly usedFields = new Set<string>(['id', 'slug', 'createdAt', 'updatedAt']);

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private kind(): Kind {
    const total = KINDS.reduce((sum, k) => sum + k.weight, 0);
    let roll = this.random() * total;
    for (const k of KINDS) {
      roll -= k.weight;
      if (roll < 0) return k.kind;
    }
    return 'createTable';
  }

  private anyTable(filter: (table: Table) => boolean = () => true): Table | undefined {
    const candidates = [...this.tables.values()].filter(filter);
    return candidates.length === 0 ? undefined : this.pick(candidates);
  }

  private newField(base: string = this.pick(FIELDS)): string {
    this.fieldCount += 1;
    const name = this.usedFields.has(base) ? `${base}${this.fieldCount}` : base;
    this.usedFields.add(name);
    return name;
  }

  /** A unique constraint or index name within PostgreSQL's 63 bytes, Prisma's way (`Table_column_idx`). */
  private constraintName(table: string, columns: readonly string[], suffix: string): string {
    this.indexCount += 1;
    return `${`${table}_${columns.join('_')}`.slice(0, 48)}_${this.indexCount}_${suffix}`;
  }

  private scalarType(): Exclude<ColumnType, 'enum'> {
    return this.pick([
      'text',
      'text',
      'varchar',
      'int',
      'int',
      'bool',
      'timestamp',
      'decimal',
      'jsonb',
    ] as const);
  }

  private seedSql(table: Table, count: number): string {
    const columns = table.columns.filter((c) => c.name !== 'id');
    const start = table.rows;
    const names = columns.map((c) => q(c.name)).join(', ');
    const values = columns.map((c) => seedValue(c, table, this.tables, this.enums)).join(',\n       ');
    table.rows += count;
    return (
      `INSERT INTO ${q(table.name)} (${names})\n` +
      `SELECT ${values}\nFROM generate_series(${start + 1}, ${start + count}) AS g;\n`
    );
  }

  private createTable(): Generated {
    this.tableCount += 1;
    const noun = NOUNS[(this.tableCount - 1) % NOUNS.length] as string;
    const round = Math.floor((this.tableCount - 1) / NOUNS.length);
    const name = round === 0 ? noun : `${noun}V${round + 1}`;
    const table: Table = {
      name,
      columns: [{ name: 'id', type: 'int', nullable: false }],
      rows: 0,
      relations: [],
    };
    const lines = [`    ${q('id')} SERIAL NOT NULL`];
    const slug: Column = { name: 'slug', type: 'varchar', nullable: false, unique: true };
    table.columns.push(slug);
    lines.push(`    ${q('slug')} VARCHAR(191) NOT NULL`);
    for (let i = 0; i < this.int(2, 6); i += 1) {
      const column: Column = {
        name: this.newField(),
        type: this.scalarType(),
        nullable: this.random() < 0.4,
      };
      if (table.columns.some((c) => c.name === column.name)) continue;
      table.columns.push(column);
      const def = column.nullable ? '' : ` NOT NULL DEFAULT ${defaultFor(column, this.enums)}`;
      lines.push(`    ${q(column.name)} ${sqlType(column)}${def}`);
    }
    lines.push(`    ${q('createdAt')} TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP`);
    lines.push(`    ${q('updatedAt')} TIMESTAMP(3) NOT NULL`);
    table.columns.push({ name: 'createdAt', type: 'timestamp', nullable: false });
    table.columns.push({ name: 'updatedAt', type: 'timestamp', nullable: false });
    const parent = this.anyTable();
    let foreignKey = '';
    let relationIndex = '';
    if (parent) {
      const column = `${parent.name.charAt(0).toLowerCase()}${parent.name.slice(1)}Id`;
      table.columns.push({ name: column, type: 'int', nullable: true });
      table.relations.push({ column, target: parent.name });
      lines.push(`    ${q(column)} INTEGER`);
      relationIndex = `\n-- CreateIndex\nCREATE INDEX ${q(`${name}_${column}_idx`)} ON ${q(name)}(${q(column)});\n`;
      foreignKey =
        `\n-- AddForeignKey\nALTER TABLE ${q(name)} ADD CONSTRAINT ${q(`${name}_${column}_fkey`)} FOREIGN KEY ` +
        `(${q(column)}) REFERENCES ${q(parent.name)}(${q('id')}) ON DELETE SET NULL ON UPDATE CASCADE;\n`;
    }
    lines.push(`\n    CONSTRAINT ${q(`${name}_pkey`)} PRIMARY KEY (${q('id')})`);
    this.tables.set(name, table);
    let sql =
      `-- CreateTable\nCREATE TABLE ${q(name)} (\n${lines.join(',\n')}\n);\n\n` +
      `-- CreateIndex\nCREATE UNIQUE INDEX ${q(`${name}_slug_key`)} ON ${q(name)}(${q('slug')});\n` +
      relationIndex +
      foreignKey;
    if (this.random() < 0.5) {
      sql += `\n-- Seed reference data\n${this.seedSql(table, this.int(20, 400))}`;
    }
    return { name: `create_${name.toLowerCase()}`, sql };
  }

  private addColumns(): Generated {
    const table = this.anyTable();
    if (!table) return this.createTable();
    const statements: string[] = [];
    for (let i = 0; i < this.int(1, 3); i += 1) {
      const column: Column = {
        name: this.newField(),
        type: this.scalarType(),
        nullable: this.random() < 0.6,
      };
      if (table.columns.some((c) => c.name === column.name)) continue;
      table.columns.push(column);
      const def = column.nullable ? '' : ` NOT NULL DEFAULT ${defaultFor(column, this.enums)}`;
      statements.push(`ADD COLUMN     ${q(column.name)} ${sqlType(column)}${def}`);
    }
    if (statements.length === 0) return this.addIndex();
    return {
      name: `add_fields_to_${table.name.toLowerCase()}`,
      sql: `-- AlterTable\nALTER TABLE ${q(table.name)} ${statements.join(',\n')};\n`,
    };
  }

  private addIndex(): Generated {
    const table = this.anyTable((t) => t.columns.some((c) => c.type !== 'jsonb' && c.name !== 'id'));
    if (!table) return this.createTable();
    const indexable = table.columns.filter((c) => c.type !== 'jsonb' && c.name !== 'id');
    const first = this.pick(indexable);
    const second = this.random() < 0.3 ? this.pick(indexable) : undefined;
    const columns = second && second.name !== first.name ? [first, second] : [first];
    const name = this.constraintName(
      table.name,
      columns.map((c) => c.name),
      'idx',
    );
    return {
      name: `index_${table.name.toLowerCase()}_${first.name.toLowerCase()}`,
      sql: `-- CreateIndex\nCREATE INDEX ${q(name)} ON ${q(table.name)}(${columns.map((c) => q(c.name)).join(', ')});\n`,
    };
  }

  private addConstraint(): Generated {
    const table = this.anyTable((t) =>
      t.columns.some((c) => c.type === 'int' && c.name !== 'id' && !c.name.endsWith('Id')),
    );
    if (!table) return this.addColumns();
    const column = this.pick(
      table.columns.filter((c) => c.type === 'int' && c.name !== 'id' && !c.name.endsWith('Id')),
    );
    const name = this.constraintName(table.name, [column.name], 'check');
    return {
      name: `check_${table.name.toLowerCase()}_${column.name.toLowerCase()}`,
      sql:
        `-- AddCheckConstraint (hand-written in the migration)\nALTER TABLE ${q(table.name)} ADD CONSTRAINT ` +
        `${q(name)} CHECK (${q(column.name)} IS NULL OR ${q(column.name)} >= 0);\n`,
    };
  }

  private backfill(): Generated {
    const table = this.anyTable(
      (t) => t.rows > 0 && t.columns.some((c) => c.type === 'text' || c.type === 'varchar'),
    );
    if (!table) return this.seedData();
    const source = this.pick(table.columns.filter((c) => c.type === 'text' || c.type === 'varchar'));
    const column: Column = {
      name: this.newField(`${source.name.replace(/Renamed$/, '')}Normalized`),
      type: 'text',
      nullable: false,
    };
    table.columns.push(column);
    const index = this.constraintName(table.name, [column.name], 'idx');
    return {
      name: `backfill_${table.name.toLowerCase()}_${column.name.toLowerCase()}`,
      sql:
        `-- AlterTable: add the column, fill it from the existing rows, then require it\n` +
        `ALTER TABLE ${q(table.name)} ADD COLUMN ${q(column.name)} TEXT;\n\n` +
        `UPDATE ${q(table.name)} SET ${q(column.name)} = lower(coalesce(${q(source.name)}::text, '')) || '#' || ${q('id')};\n\n` +
        `ALTER TABLE ${q(table.name)} ALTER COLUMN ${q(column.name)} SET NOT NULL;\n\n` +
        `-- CreateIndex\nCREATE INDEX ${q(index)} ON ${q(table.name)}(${q(column.name)});\n`,
    };
  }

  private seedData(): Generated {
    const table = this.anyTable();
    if (!table) return this.createTable();
    return {
      name: `seed_${table.name.toLowerCase()}`,
      sql: `-- Seed reference data\n${this.seedSql(table, this.int(50, 600))}`,
    };
  }

  private enumColumn(): Generated {
    const table = this.anyTable();
    if (!table) return this.createTable();
    const values = ENUM_VALUES[this.enums.size % ENUM_VALUES.length] as string[];
    const name = `${table.name}Status${this.enums.size + 1}`;
    this.enums.set(name, { name, values });
    const column: Column = { name: this.newField('state'), type: 'enum', enumName: name, nullable: false };
    table.columns.push(column);
    return {
      name: `add_${name.toLowerCase()}`,
      sql:
        `-- CreateEnum\nCREATE TYPE ${q(name)} AS ENUM (${values.map((v) => `'${v}'`).join(', ')});\n\n` +
        `-- AlterTable\nALTER TABLE ${q(table.name)} ADD COLUMN     ${q(column.name)} ${q(name)} NOT NULL DEFAULT '${values[0]}';\n`,
    };
  }

  private renameColumn(): Generated {
    const table = this.anyTable((t) => t.columns.some((c) => this.renamable(t, c)));
    if (!table) return this.addColumns();
    const column = this.pick(table.columns.filter((c) => this.renamable(table, c)));
    const from = column.name;
    column.name = this.newField(`${from}Renamed`);
    return {
      name: `rename_${table.name.toLowerCase()}_${from.toLowerCase()}`,
      sql: `-- AlterTable\nALTER TABLE ${q(table.name)} RENAME COLUMN ${q(from)} TO ${q(column.name)};\n`,
    };
  }

  private renamable(table: Table, column: Column): boolean {
    return (
      !['id', 'slug', 'createdAt', 'updatedAt'].includes(column.name) &&
      !table.relations.some((r) => r.column === column.name) &&
      column.name.length < 40
    );
  }

  private alterType(): Generated {
    const table = this.anyTable((t) => t.columns.some((c) => c.type === 'varchar' && c.name !== 'slug'));
    if (!table) return this.addIndex();
    const column = this.pick(table.columns.filter((c) => c.type === 'varchar' && c.name !== 'slug'));
    column.type = 'text';
    return {
      name: `widen_${table.name.toLowerCase()}_${column.name.toLowerCase()}`,
      sql: `-- AlterTable\nALTER TABLE ${q(table.name)} ALTER COLUMN ${q(column.name)} SET DATA TYPE TEXT;\n`,
    };
  }

  private dropColumn(): Generated {
    const table = this.anyTable((t) => t.columns.some((c) => this.renamable(t, c)));
    if (!table) return this.addColumns();
    const column = this.pick(table.columns.filter((c) => this.renamable(table, c)));
    table.columns = table.columns.filter((c) => c !== column);
    return {
      name: `drop_${table.name.toLowerCase()}_${column.name.toLowerCase()}`,
      sql:
        `/*\n  Warnings:\n\n  - You are about to drop the column \`${column.name}\` on the \`${table.name}\` table. ` +
        'All the data in the column will be lost.\n\n*/\n' +
        `-- AlterTable\nALTER TABLE ${q(table.name)} DROP COLUMN ${q(column.name)};\n`,
    };
  }

  /** Tables that already have the `updatedAt` trigger. */
  private readonly triggered = new Set<string>();

  /**
   * A hand-written PL/pgSQL function (a long `$$` body) and the trigger that keeps a table's `updatedAt` current,
   * as teams add them to Prisma migrations by hand.
   */
  private trigger(): Generated {
    const table = this.anyTable((t) => !this.triggered.has(t.name));
    if (!table) return this.addIndex();
    this.triggered.add(table.name);
    const fn = q(`${table.name}_touch`);
    const branches = table.columns
      .filter((c) => c.type === 'int' || c.type === 'decimal')
      .slice(0, 6)
      .map(
        (c) =>
          `  IF NEW.${q(c.name)} IS DISTINCT FROM OLD.${q(c.name)} THEN\n` +
          `    changed := changed || '${c.name}'::text;\n  END IF;\n`,
      )
      .join('');
    return {
      name: `touch_${table.name.toLowerCase()}`,
      sql:
        '-- Hand-written: keep "updatedAt" current on every update\n' +
        `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger\nLANGUAGE plpgsql AS $$\nDECLARE\n` +
        '  changed text[] := ARRAY[]::text[];\n  attempts integer := 0;\nBEGIN\n' +
        '  -- Only a real change moves the timestamp; a no-op UPDATE keeps it.\n' +
        "  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN\n    RETURN NEW;\n  END IF;\n" +
        branches +
        '  WHILE attempts < 3 LOOP\n    attempts := attempts + 1;\n' +
        '    EXIT WHEN NEW."updatedAt" IS NULL OR NEW."updatedAt" <= CURRENT_TIMESTAMP;\n  END LOOP;\n' +
        '  NEW."updatedAt" := CURRENT_TIMESTAMP;\n  RETURN NEW;\nEND\n$$;\n\n' +
        `CREATE TRIGGER ${q(`${table.name}_touch`)} BEFORE UPDATE ON ${q(table.name)}\n` +
        `FOR EACH ROW EXECUTE FUNCTION ${fn}();\n`,
    };
  }

  next(index: number): Generated {
    if (index < 3) return this.createTable();
    switch (this.kind()) {
      case 'createTable':
        return this.createTable();
      case 'addColumns':
        return this.addColumns();
      case 'addIndex':
        return this.addIndex();
      case 'backfill':
        return this.backfill();
      case 'addConstraint':
        return this.addConstraint();
      case 'seedData':
        return this.seedData();
      case 'enumColumn':
        return this.enumColumn();
      case 'renameColumn':
        return this.renameColumn();
      case 'alterType':
        return this.alterType();
      case 'dropColumn':
        return this.dropColumn();
      case 'trigger':
        return this.trigger();
    }
  }
}

/** `20240101000000`-style names, one hour apart, so lexical order is generation order. */
function timestampName(index: number): string {
  const at = new Date(Date.UTC(2022, 0, 1) + index * 3_600_000);
  return at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export interface CorpusMigration {
  /** The directory name, `<timestamp>_<slug>`. */
  readonly name: string;
  readonly sql: string;
}

/** The first `count` migrations of the corpus. */
export function generateCorpus(count: number): CorpusMigration[] {
  const generator = new CorpusGenerator();
  const migrations: CorpusMigration[] = [];
  for (let index = 0; index < count; index += 1) {
    const { name, sql } = generator.next(index);
    migrations.push({ name: `${timestampName(index)}_${name.slice(0, 60)}`, sql });
  }
  return migrations;
}

/** Writes the corpus in Prisma's layout (`<dir>/<name>/migration.sql`, `migration_lock.toml`). */
export async function writeCorpus(dir: string, migrations: readonly CorpusMigration[]): Promise<string[]> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'migration_lock.toml'),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
  );
  const files: string[] = [];
  for (const migration of migrations) {
    await mkdir(join(dir, migration.name));
    const file = join(dir, migration.name, 'migration.sql');
    await writeFile(file, migration.sql);
    files.push(file);
  }
  return files;
}
