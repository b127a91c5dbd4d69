/**
 * The IAM review table (docs/iam.md) is the contract: every statement of every role the construct creates, in the
 * default instance stack and the cluster stack, with IAM database authentication, and with the backup schedule, is a
 * row of it (role, Sid, actions, resources, conditions), and every row is a statement. A statement that gains an action or a resource, or a new statement, fails here until
 * the table, which a reviewer reads, says so. In the table each item is in backticks (`<br>` between items), which
 * the comparison ignores.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Step } from '../../lambdas/shared/contract/contract.js';
import { STEP_METADATA_KEY } from '../../lib/asl.js';
import { flat, synthesize } from './support.js';

const TABLE_PATH = join(import.meta.dirname, '..', '..', 'docs', 'iam.md');
const TARGETS = ['instance', 'cluster'] as const;
type Target = (typeof TARGETS)[number];

/**
 * A row's condition, in its Target cell after the kind (`both (IAM auth)`): the password login (`secret`, the
 * default), IAM database authentication (`IAM auth`), or the backup schedule (`backupSchedule`). No condition: the
 * row holds in every stack of its kind.
 */
const CONDITIONS = ['secret', 'IAM auth', 'backupSchedule'] as const;
type Condition = (typeof CONDITIONS)[number];

/** A stack the table is compared with: its target kind and the conditions that hold in it. */
interface Variant {
  readonly name: string;
  readonly target: Target;
  readonly conditions: readonly Condition[];
  readonly context?: Record<string, unknown>;
}

const IAM_AUTH = { secretArn: null, databaseUser: 'migrator', databaseName: 'app' };

const VARIANTS: readonly Variant[] = [
  { name: 'instance', target: 'instance', conditions: ['secret'] },
  { name: 'cluster', target: 'cluster', conditions: ['secret'] },
  { name: 'instance, IAM auth', target: 'instance', conditions: ['IAM auth'], context: IAM_AUTH },
  { name: 'cluster, IAM auth', target: 'cluster', conditions: ['IAM auth'], context: IAM_AUTH },
  {
    name: 'instance, backupSchedule',
    target: 'instance',
    conditions: ['secret', 'backupSchedule'],
    context: { backupSchedule: 'rate(1 day)' },
  },
];

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** A statement as the table writes it: one string per column, lists sorted and joined with `<br>`. */
interface Row {
  readonly role: string;
  readonly sid: string;
  readonly actions: string;
  readonly resources: string;
  readonly conditions: string;
}

function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The pseudo parameters shortened, as the table writes them. */
function short(text: string): string {
  return text
    .replaceAll('<AWS::Partition>', 'aws')
    .replaceAll('<AWS::Region>', '<region>')
    .replaceAll('<AWS::AccountId>', '<account>')
    .replaceAll('<AWS::URLSuffix>', 'amazonaws.com');
}

function rowOf(role: string, statement: Statement): Row {
  return {
    role,
    sid: statement.Sid ?? '-',
    actions: [...list(statement.Action)].sort().join('<br>'),
    resources: [...list(statement.Resource).map((r) => short(flat(r)))].sort().join('<br>'),
    conditions: statement.Condition ? short(JSON.stringify(statement.Condition)) : '-',
  };
}

/**
 * Every statement of every IAM policy of the stack, by the role it is attached to (step name, 'report',
 * 'state-machine', 'backup-schedule').
 */
function statementsOf(resources: Record<string, Resource>): Row[] {
  const roleNames = new Map<string, string>();
  for (const fn of Object.values(resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    roleNames.set(role, (fn.Metadata?.[STEP_METADATA_KEY] as Step | undefined) ?? 'report');
  }
  const rows: Row[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::IAM::Role') {
      // A role's managed policies would escape the table.
      expect(resource.Properties.ManagedPolicyArns, logicalId).toBeUndefined();
      expect(resource.Properties.Policies, logicalId).toBeUndefined();
    }
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = list(resource.Properties.Roles as { Ref: string }[]);
    expect(roles, logicalId).toHaveLength(1);
    const ref = roles[0]?.Ref as string;
    const role =
      roleNames.get(ref) ??
      (ref.includes('MigrateEntryRole')
        ? 'migrate-entry'
        : ref.includes('StateMachineRole')
          ? 'state-machine'
          : ref.includes('BackupScheduleRole')
            ? 'backup-schedule'
            : `unknown role ${ref}`);
    for (const statement of (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
      expect((statement as { Effect?: string }).Effect, `${role} ${statement.Sid ?? ''}`).toBe('Allow');
      rows.push(rowOf(role, statement));
    }
  }
  return rows;
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim().replaceAll('`', ''));
}

/** Whether a Target cell (`instance`, `both (IAM auth)`, ...) holds in `variant`. */
function holds(cell: string, variant: Variant): boolean {
  const match = /^(both|instance|cluster)(?: \((.+)\))?$/.exec(cell);
  if (!match) throw new Error(`Unknown Target ${JSON.stringify(cell)} in ${TABLE_PATH}`);
  const [, kind, condition] = match;
  if (condition !== undefined && !(CONDITIONS as readonly string[]).includes(condition)) {
    throw new Error(
      `Unknown condition ${JSON.stringify(condition)} in ${TABLE_PATH}: ${CONDITIONS.join(', ')}`,
    );
  }
  return (
    (kind === 'both' || kind === variant.target) &&
    (condition === undefined || variant.conditions.includes(condition as Condition))
  );
}

/** The rows of the table under `## IAM review table` that hold in `variant`. */
function tableRows(markdown: string, variant: Variant): Row[] {
  const section = markdown.split(/^## IAM review table\s*$/m)[1]?.split(/^## /m)[0];
  if (!section) throw new Error(`${TABLE_PATH} has no "## IAM review table" section`);
  const lines = section.split('\n').filter((line) => line.trim().startsWith('|'));
  const [header, , ...body] = lines;
  expect(cells(header ?? '')).toEqual(['Target', 'Role', 'Sid', 'Actions', 'Resources', 'Conditions', 'Why']);
  return body
    .map(cells)
    .filter(([rowTarget = '']) => holds(rowTarget, variant))
    .map(([, role = '', sid = '', actions = '', resources = '', conditions = '', why = '']) => {
      expect(why.length, `${role} ${sid}: the row says why`).toBeGreaterThan(10);
      return { role, sid, actions, resources, conditions };
    });
}

const key = (row: Row) => [row.role, row.sid, row.actions, row.resources, row.conditions].join(' | ');

/** The rows of `a` that `b` lacks, counting duplicates. */
function missing(a: Row[], b: Row[]): string[] {
  const left = new Map<string, number>();
  for (const row of b) left.set(key(row), (left.get(key(row)) ?? 0) + 1);
  const out: string[] = [];
  for (const row of a) {
    const n = left.get(key(row)) ?? 0;
    if (n === 0) out.push(key(row));
    else left.set(key(row), n - 1);
  }
  return out;
}

describe.each(VARIANTS)('the IAM review table (docs/iam.md), $name stack', (variant) => {
  let synthesized: Row[];
  let documented: Row[];

  beforeAll(() => {
    // Prepare
    const { json } = synthesize({
      targetKind: variant.target,
      ...(variant.context ? { context: variant.context } : {}),
    });
    synthesized = statementsOf(json.Resources as Record<string, Resource>);
    documented = tableRows(readFileSync(TABLE_PATH, 'utf8'), variant);
  });

  it('lists every statement of every role the construct creates', () => {
    // Assess
    expect(missing(synthesized, documented)).toEqual([]);
  });

  it('lists no statement the construct does not create', () => {
    // Assess
    expect(missing(documented, synthesized)).toEqual([]);
  });
});

describe('the IAM review table check', () => {
  it('reads a row with a condition only in the stacks where the condition holds', () => {
    // Prepare
    const [instance, , instanceIam, , scheduled] = VARIANTS as [Variant, Variant, Variant, Variant, Variant];
    // Assess
    expect(holds('both (IAM auth)', instanceIam)).toBe(true);
    expect(holds('both (IAM auth)', instance)).toBe(false);
    expect(holds('both (secret)', instanceIam)).toBe(false);
    expect(holds('cluster (secret)', instance)).toBe(false);
    expect(holds('both (backupSchedule)', scheduled)).toBe(true);
    expect(holds('both (backupSchedule)', instance)).toBe(false);
    expect(holds('instance', scheduled)).toBe(true);
    expect(() => holds('both (kerberos)', instance)).toThrow(/Unknown condition/);
  });

  it('fails when a statement gains an action, or a resource', () => {
    // Prepare
    const { json } = synthesize();
    const rows = statementsOf(json.Resources as Record<string, Resource>);
    const documented = tableRows(readFileSync(TABLE_PATH, 'utf8'), VARIANTS[0] as Variant);
    const [first, ...rest] = rows;
    if (!first) throw new Error('no statement');
    // Act
    const wider = [{ ...first, actions: `${first.actions}<br>rds:DeleteDBInstance` }, ...rest];
    const broader = [{ ...first, resources: `${first.resources}<br>*` }, ...rest];
    // Assess
    expect(missing(wider, documented)).toHaveLength(1);
    expect(missing(broader, documented)).toHaveLength(1);
  });
});
