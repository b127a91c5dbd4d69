import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';
import {
  asideIdentifier,
  backupSnapshotId,
  preMigrationSnapshotId,
  restoredIdentifier,
} from '../../lambdas/shared/domain/identifiers.js';
import { ENTRY_METADATA_KEY, STEP_METADATA_KEY } from '../../lib/asl.js';
import { managedIdentifierPatterns } from '../../lib/orchestrator.js';
import { flat, orchestrate, synthesize } from './support.js';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/**
 * The only actions allowed on `Resource: '*'`, because AWS has no resource-level permission for them (or,
 * for the ENI actions, cannot know the resource at synth):
 * - Lambda in a VPC: ec2 network interface actions (Describe* has no resource-level permission; Lambda
 *   checks Create/Delete before the interface exists);
 * - X-Ray: PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets;
 * - Step Functions vended logs delivery: logs:*LogDelivery*, PutResourcePolicy, DescribeResourcePolicies,
 *   DescribeLogGroups;
 * - rds:DescribeAccountAttributes (the manual snapshot quota), which has no resource-level permission.
 */
const WILDCARD_ACTIONS = new Set([
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'rds:DescribeAccountAttributes',
]);

const ARN_PREFIX = 'arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:';

/** The tags a snapshot must carry to be deleted or restored: taken by this stack's orchestrator, of its target. */
const MANAGED_SNAPSHOT_OF_TARGET = {
  StringEquals: {
    'aws:ResourceTag/managed-by': 'MigrationOrchestrator',
    'aws:ResourceTag/source-identifier': 'app-production',
  },
};

/** The statements of `statements` that allow `action`. */
function allowing(statements: Statement[], action: string): Statement[] {
  return statements.filter((statement) => list(statement.Action).includes(action));
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** A role of the orchestrator: a step's, the report function's, the state machine's or the migrate entry's. */
type RoleKey = Step | 'report' | 'state-machine' | 'migrate-entry';

/**
 * The statements of each step's role, of the report function's role under 'report' (the one function that is not
 * a step), of the state machine role under 'state-machine' and of the migrate entry's under 'migrate-entry'
 * (test/cdk/migrate-entry.test.ts checks that one).
 */
function statementsByRole(resources: Record<string, Resource>): Map<RoleKey, Statement[]> {
  const roleOfStep = new Map<string, RoleKey>();
  for (const fn of Object.values(resources)) {
    if (fn.Type !== 'AWS::Lambda::Function') continue;
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    roleOfStep.set(role, (fn.Metadata?.[STEP_METADATA_KEY] as Step | undefined) ?? 'report');
  }
  const byRole = new Map<RoleKey, Statement[]>();
  // The default policy first (the order CDK gives), then the statements of their own.
  const ordered = Object.entries(resources).sort(
    ([a], [b]) => Number(!a.includes('DefaultPolicy')) - Number(!b.includes('DefaultPolicy')),
  );
  for (const [, policy] of ordered) {
    if (policy.Type !== 'AWS::IAM::Policy') continue;
    const role = (policy.Properties.Roles as { Ref: string }[])[0]?.Ref as string;
    const key =
      roleOfStep.get(role) ??
      (role.includes('MigrateEntryRole')
        ? 'migrate-entry'
        : role.includes('StateMachineRole')
          ? 'state-machine'
          : undefined);
    if (!key) throw new Error(`Policy of unknown role ${role}`);
    // A role's default policy, and one policy per statement with a wildcard (acknowledged on its own).
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    byRole.set(key, [...(byRole.get(key) ?? []), ...statements]);
  }
  return byRole;
}

function rdsGrants(statements: Statement[]): Map<string, string[]> {
  const grants = new Map<string, string[]>();
  for (const statement of statements) {
    for (const action of list(statement.Action).filter((a) => a.startsWith('rds:'))) {
      grants.set(action, [...(grants.get(action) ?? []), ...list(statement.Resource).map(flat)]);
    }
  }
  return grants;
}

/** `*` of an IAM resource pattern as a regular expression. */
function matches(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(value);
}

describe('IAM of the instance orchestrator', () => {
  let byRole: Map<RoleKey, Statement[]>;

  beforeAll(() => {
    // Prepare
    const { json } = synthesize();
    byRole = statementsByRole(json.Resources as Record<string, Resource>);
  });

  it("gives every step its own role, the state machine and its migrate entry one each, with no 'Resource: *' beyond the documented actions", () => {
    // Assess
    expect(new Set(byRole.keys())).toEqual(new Set([...Steps, 'report', 'state-machine', 'migrate-entry']));
    for (const [role, statements] of byRole) {
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        if (!list(statement.Resource).includes('*')) continue;
        for (const action of list(statement.Action))
          expect(WILDCARD_ACTIONS.has(action), `${role}: ${action}`).toBe(true);
      }
    }
  });

  it("makes every function depend on all of its role's policies (Lambda checks the ENI actions on creation)", () => {
    // Prepare
    const { json } = synthesize();
    const resources = json.Resources as Record<string, Resource & { DependsOn?: string[] }>;
    // Assess
    for (const [id, fn] of Object.entries(resources)) {
      if (fn.Type !== 'AWS::Lambda::Function') continue;
      const role = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const policies = Object.entries(resources)
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
        .filter(([, r]) => (r.Properties.Roles as { Ref: string }[]).some((ref) => ref.Ref === role))
        .map(([policyId]) => policyId);
      expect(policies.length, id).toBeGreaterThan(0);
      for (const policy of policies) expect(fn.DependsOn ?? [], id).toContain(policy);
    }
  });

  it('lets only preflight list the running executions, of its own state machine only', () => {
    // Assess
    for (const [role, statements] of byRole) {
      const listing = statements.filter((statement) =>
        list(statement.Action).includes('states:ListExecutions'),
      );
      if (role !== 'preflight') {
        expect(listing, role).toEqual([]);
        continue;
      }
      expect(listing).toHaveLength(1);
      expect(list(listing[0]?.Resource).map(flat)).toEqual([
        expect.stringMatching(
          /^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:[A-Za-z0-9-]+$/,
        ),
      ]);
    }
  });

  it('never grants an action with a wildcard', () => {
    // Assess
    for (const [role, statements] of byRole) {
      for (const statement of statements) {
        for (const action of list(statement.Action)) expect(action, role).not.toContain('*');
      }
    }
  });

  it('limits iam:PassRole to RDS', () => {
    // Assess
    const passRole = [...byRole.values()].flat().filter((s) => list(s.Action).includes('iam:PassRole'));
    expect(passRole).toHaveLength(2);
    for (const statement of passRole) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': ['rds.amazonaws.com', 'monitoring.rds.amazonaws.com'] },
      });
    }
    for (const [role, statements] of byRole) {
      const passes = statements.some((s) => list(s.Action).includes('iam:PassRole'));
      expect(passes, role).toBe(role === 'restore-snapshot' || role === 'check-restore');
    }
  });

  it('lets only the steps that connect read the database secret', () => {
    // Assess
    for (const [role, statements] of byRole) {
      const reads = statements.some((s) => list(s.Action).includes('secretsmanager:GetSecretValue'));
      expect(reads, role).toBe(
        ['preflight', 'apply-migrations', 'assess-release', 'verify-health'].includes(role),
      );
    }
  });

  it('lets only create-snapshot create snapshots, of the target, as <target>-premigration-* or <target>-backup-*', () => {
    // Assess
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:CreateDBSnapshot'), role).toBe(role === 'create-snapshot');
    }
    const grants = rdsGrants(byRole.get('create-snapshot') ?? []);
    expect(grants.get('rds:CreateDBSnapshot')).toEqual([
      `${ARN_PREFIX}db:app-production`,
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
    ]);
    expect(grants.get('rds:DescribeDBInstances')).toEqual([`${ARN_PREFIX}db:app-production`]);
    expect(grants.get('rds:DescribeDBSnapshots')).toEqual([
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
    ]);
    // Its tags (snapshot-kind, retention-class, ...) go on with the snapshot, managed-by required.
    expect(grants.get('rds:AddTagsToResource')).toEqual([
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
    ]);
  });

  it('lets only create-snapshot read the snapshot quota, the one RDS action on every resource', () => {
    // Assess
    for (const [role, statements] of byRole) {
      const quota = allowing(statements, 'rds:DescribeAccountAttributes');
      if (role !== 'create-snapshot') {
        expect(quota, role).toEqual([]);
        continue;
      }
      expect(quota).toEqual([
        { Sid: 'ReadSnapshotQuota', Effect: 'Allow', Action: 'rds:DescribeAccountAttributes', Resource: '*' },
      ]);
    }
  });

  it('lets only prune-snapshots delete snapshots, the managed ones of the target, by their tags', () => {
    // Assess
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:DeleteDBSnapshot'), role).toBe(role === 'prune-snapshots');
      expect(rdsGrants(statements).has('rds:DeleteDBClusterSnapshot'), role).toBe(false);
    }
    const deletes = allowing(byRole.get('prune-snapshots') ?? [], 'rds:DeleteDBSnapshot');
    expect(deletes).toHaveLength(1);
    expect(deletes[0]?.Action).toBe('rds:DeleteDBSnapshot');
    expect(list(deletes[0]?.Resource).map(flat)).toEqual([
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
    ]);
    expect(deletes[0]?.Condition).toEqual(MANAGED_SNAPSHOT_OF_TARGET);
    // It lists the target's snapshots (a listing filtered by the target is authorized on the target).
    expect(rdsGrants(byRole.get('prune-snapshots') ?? []).get('rds:DescribeDBSnapshots')).toEqual([
      `${ARN_PREFIX}db:app-production`,
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
    ]);
  });

  it('never allows deleting anything without the managed-tag condition', () => {
    // Assess
    for (const [role, statements] of byRole) {
      for (const statement of statements) {
        const deletes = list(statement.Action).filter(
          (a) => /^[a-z0-9-]+:Delete/.test(a) && a.startsWith('rds:'),
        );
        if (deletes.length === 0) continue;
        expect(statement.Condition, `${role} ${deletes.join(', ')}`).toEqual(MANAGED_SNAPSHOT_OF_TARGET);
      }
    }
  });

  it('lets only preflight (the retry guard), prune-snapshots, the report function and the migrate entry (following the execution it started) describe executions, those of its own state machine only', () => {
    // Prepare
    const listing = allowing(byRole.get('preflight') ?? [], 'states:ListExecutions');
    const stateMachineName = flat(listing[0]?.Resource).split(':stateMachine:')[1];
    // Assess
    for (const [role, statements] of byRole) {
      const describing = allowing(statements, 'states:DescribeExecution');
      if (
        role !== 'preflight' &&
        role !== 'prune-snapshots' &&
        role !== 'report' &&
        role !== 'migrate-entry'
      ) {
        expect(describing, role).toEqual([]);
        continue;
      }
      expect(describing).toHaveLength(1);
      expect(list(describing[0]?.Action)).toEqual(
        role === 'report'
          ? ['states:DescribeExecution', 'states:GetExecutionHistory']
          : role === 'migrate-entry'
            ? ['states:DescribeExecution', 'states:StopExecution']
            : ['states:DescribeExecution'],
      );
      expect(list(describing[0]?.Resource).map(flat)).toEqual([
        `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}:*`,
      ]);
    }
    expect(stateMachineName).toMatch(/^[A-Za-z0-9-]+$/);
  });

  it('lets only restore-snapshot restore, as <target>-restored-*, from a managed snapshot of the target', () => {
    // Assess
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:RestoreDBInstanceFromDBSnapshot'), role).toBe(
        role === 'restore-snapshot',
      );
    }
    const grants = rdsGrants(byRole.get('restore-snapshot') ?? []);
    expect(grants.get('rds:RestoreDBInstanceFromDBSnapshot')).toEqual([
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
      `${ARN_PREFIX}db:app-production-restored-*`,
      `${ARN_PREFIX}subgrp:*`,
      `${ARN_PREFIX}pg:*`,
      `${ARN_PREFIX}og:*`,
    ]);
    // A pre-migration snapshot in a rollback, a backup in a restore: either only when its tags say this
    // orchestrator took it of this target.
    const fromSnapshots = allowing(
      byRole.get('restore-snapshot') ?? [],
      'rds:RestoreDBInstanceFromDBSnapshot',
    ).filter((s) =>
      list(s.Resource)
        .map(flat)
        .some((r) => r.includes(':snapshot:')),
    );
    expect(fromSnapshots).toHaveLength(1);
    expect(fromSnapshots[0]?.Condition).toEqual(MANAGED_SNAPSHOT_OF_TARGET);
    expect(grants.get('rds:ModifyDBInstance')).toBeUndefined();
    // It proves by the snapshot's tags that it may restore it before restoring it.
    expect(grants.get('rds:DescribeDBSnapshots')).toEqual([
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
    ]);
  });

  it('lets only check-restore and swap modify, check-restore only the restored copy', () => {
    // Assess
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:ModifyDBInstance'), role).toBe(
        role === 'check-restore' || role === 'swap',
      );
    }
    expect(rdsGrants(byRole.get('check-restore') ?? []).get('rds:ModifyDBInstance')).toEqual([
      `${ARN_PREFIX}db:app-production-restored-*`,
    ]);
    expect(rdsGrants(byRole.get('swap') ?? []).get('rds:ModifyDBInstance')).toEqual([
      `${ARN_PREFIX}db:app-production`,
      `${ARN_PREFIX}db:app-production-restored-*`,
      `${ARN_PREFIX}db:app-production-rolledback-*`,
    ]);
  });

  it('gives apply and verify no RDS API permission at all, and preflight only the listing of the snapshots', () => {
    // Assess
    for (const role of ['apply-migrations', 'assess-release', 'verify-health'] as const) {
      expect(rdsGrants(byRole.get(role) ?? []).size, role).toBe(0);
    }
    // A restore execution's preflight lists the target's managed snapshots and checks the one asked for.
    expect(rdsGrants(byRole.get('preflight') ?? [])).toEqual(
      new Map([
        [
          'rds:DescribeDBSnapshots',
          [
            `${ARN_PREFIX}db:app-production`,
            `${ARN_PREFIX}snapshot:app-production-premigration-*`,
            `${ARN_PREFIX}snapshot:app-production-backup-*`,
          ],
        ],
      ]),
    );
  });

  it('conditions every tagging on the managed-by tag of this stack', () => {
    // Assess
    const tagging = [...byRole.values()]
      .flat()
      .filter((s) => list(s.Action).includes('rds:AddTagsToResource'));
    expect(tagging.length).toBeGreaterThanOrEqual(3);
    for (const statement of tagging) {
      const equals = statement.Condition?.StringEquals ?? {};
      const key = Object.keys(equals)[0];
      expect(['aws:RequestTag/managed-by', 'aws:ResourceTag/managed-by']).toContain(key);
      expect(equals[key as string]).toBe('MigrationOrchestrator');
    }
  });

  it('scopes every RDS grant to the target or to the identifiers this workflow creates', () => {
    // Prepare
    const allowed = [
      `${ARN_PREFIX}db:app-production`,
      `${ARN_PREFIX}snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}snapshot:app-production-backup-*`,
      `${ARN_PREFIX}db:app-production-restored-*`,
      `${ARN_PREFIX}db:app-production-rolledback-*`,
      `${ARN_PREFIX}subgrp:*`,
      `${ARN_PREFIX}pg:*`,
      `${ARN_PREFIX}og:*`,
    ];
    // Assess
    for (const [role, statements] of byRole) {
      for (const [action, resources] of rdsGrants(statements)) {
        if (action === 'rds:DescribeAccountAttributes') continue; // no resource-level permission (see above)
        for (const resource of resources) expect(allowed, `${role} ${action}`).toContain(resource);
      }
    }
  });

  it('lets the state machine invoke exactly its own functions', () => {
    // Assess
    const invoke = (byRole.get('state-machine') ?? []).filter((s) =>
      list(s.Action).includes('lambda:InvokeFunction'),
    );
    expect(invoke).toHaveLength(Steps.length);
    for (const statement of invoke) {
      for (const resource of list(statement.Resource).map(flat)) {
        expect(resource).toMatch(/^<Orchestrator\w+Function\w+\.Arn>(:\*)?$/);
      }
    }
  });
});

describe('IAM of the cluster orchestrator', () => {
  let byRole: Map<RoleKey, Statement[]>;

  beforeAll(() => {
    // Prepare
    const { json } = synthesize({ targetKind: 'cluster' });
    byRole = statementsByRole(json.Resources as Record<string, Resource>);
  });

  it('uses the cluster and cluster-snapshot resource types', () => {
    // Assess
    expect(rdsGrants(byRole.get('create-snapshot') ?? []).get('rds:CreateDBClusterSnapshot')).toEqual([
      `${ARN_PREFIX}cluster:app-production`,
      `${ARN_PREFIX}cluster-snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}cluster-snapshot:app-production-backup-*`,
    ]);
    expect(rdsGrants(byRole.get('restore-snapshot') ?? []).get('rds:RestoreDBClusterFromSnapshot')).toEqual([
      `${ARN_PREFIX}cluster-snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}cluster-snapshot:app-production-backup-*`,
      `${ARN_PREFIX}cluster:app-production-restored-*`,
      // An Aurora restore passes a subnet group and a cluster parameter group, no option group.
      `${ARN_PREFIX}subgrp:*`,
      `${ARN_PREFIX}cluster-pg:*`,
    ]);
    for (const role of ['preflight', 'prune-snapshots'] as const) {
      expect(rdsGrants(byRole.get(role) ?? []).get('rds:DescribeDBClusterSnapshots'), role).toEqual([
        `${ARN_PREFIX}cluster:app-production`,
        `${ARN_PREFIX}cluster-snapshot:app-production-premigration-*`,
        `${ARN_PREFIX}cluster-snapshot:app-production-backup-*`,
      ]);
    }
    expect(rdsGrants(byRole.get('swap') ?? []).get('rds:ModifyDBCluster')).toEqual([
      `${ARN_PREFIX}cluster:app-production`,
      `${ARN_PREFIX}cluster:app-production-restored-*`,
      `${ARN_PREFIX}cluster:app-production-rolledback-*`,
    ]);
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:CreateDBSnapshot'), role).toBe(false);
      expect(rdsGrants(statements).has('rds:ModifyDBInstance'), role).toBe(false);
      expect(rdsGrants(statements).has('rds:DeleteDBSnapshot'), role).toBe(false);
    }
  });

  it('lets only prune-snapshots delete cluster snapshots, the managed ones of the target, by their tags', () => {
    // Assess
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:DeleteDBClusterSnapshot'), role).toBe(role === 'prune-snapshots');
    }
    const deletes = allowing(byRole.get('prune-snapshots') ?? [], 'rds:DeleteDBClusterSnapshot');
    expect(deletes).toHaveLength(1);
    expect(list(deletes[0]?.Resource).map(flat)).toEqual([
      `${ARN_PREFIX}cluster-snapshot:app-production-premigration-*`,
      `${ARN_PREFIX}cluster-snapshot:app-production-backup-*`,
    ]);
    expect(deletes[0]?.Condition).toEqual(MANAGED_SNAPSHOT_OF_TARGET);
    const restores = allowing(
      byRole.get('restore-snapshot') ?? [],
      'rds:RestoreDBClusterFromSnapshot',
    ).filter((s) =>
      list(s.Resource)
        .map(flat)
        .some((r) => r.includes(':cluster-snapshot:')),
    );
    expect(restores.map((s) => s.Condition)).toEqual([MANAGED_SNAPSHOT_OF_TARGET]);
  });

  it('lets only check-restore create instances, members of the restored clusters named by their pattern, tagged managed-by', () => {
    // Assess
    for (const [role, statements] of byRole) {
      expect(rdsGrants(statements).has('rds:CreateDBInstance'), role).toBe(role === 'check-restore');
    }
    const checkRestore = byRole.get('check-restore') ?? [];
    const creates = allowing(checkRestore, 'rds:CreateDBInstance');
    // The instance and its cluster, both of the restored pattern; an Aurora engine, so never a standalone instance
    // (the cluster resource is only checked when the request names one).
    const members = creates.find((s) =>
      list(s.Resource)
        .map(flat)
        .some((r) => r.includes(':cluster:')),
    );
    expect(list(members?.Resource).map(flat)).toEqual([
      `${ARN_PREFIX}db:app-production-restored-*`,
      `${ARN_PREFIX}cluster:app-production-restored-*`,
    ]);
    expect(members?.Condition).toEqual({ StringLike: { 'rds:DatabaseEngine': 'aurora*' } });
    // The member's parameter group (no subnet or option group: a member takes its cluster's).
    expect(creates.flatMap((s) => list(s.Resource).map(flat))).toEqual([
      `${ARN_PREFIX}db:app-production-restored-*`,
      `${ARN_PREFIX}cluster:app-production-restored-*`,
      `${ARN_PREFIX}pg:*`,
    ]);
    expect(creates.flatMap((s) => list(s.Resource).map(flat))).not.toContain(`${ARN_PREFIX}db:*`);
    // Tags on creation, on the restored pattern only (never on any instance).
    const tags = allowing(checkRestore, 'rds:AddTagsToResource').filter((s) =>
      list(s.Resource)
        .map(flat)
        .some((r) => r.includes(':db:')),
    );
    expect(tags.map((s) => list(s.Resource).map(flat))).toEqual([
      [`${ARN_PREFIX}db:app-production-restored-*`],
    ]);
    expect(tags[0]?.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/managed-by': 'MigrationOrchestrator' },
    });
  });

  it('describes any instance (cluster members are listed with a filter) but modifies none', () => {
    // Assess
    for (const role of ['create-snapshot', 'check-restore', 'swap'] as const) {
      expect(rdsGrants(byRole.get(role) ?? []).get('rds:DescribeDBInstances'), role).toEqual([
        `${ARN_PREFIX}db:*`,
      ]);
    }
    for (const [role, statements] of byRole) {
      for (const statement of statements) {
        if (!list(statement.Resource).map(flat).includes(`${ARN_PREFIX}db:*`)) continue;
        const actions = list(statement.Action);
        const conditioned = statement.Condition?.StringEquals?.['aws:RequestTag/managed-by'] !== undefined;
        expect(actions.every((a) => a === 'rds:DescribeDBInstances') || conditioned, role).toBe(true);
      }
    }
  });
});

describe('managedIdentifierPatterns', () => {
  it('matches the identifiers the functions create, for short and long targets', () => {
    // Prepare
    const targets = ['app-production', `a${'very-long-identifier-'.repeat(3)}x`.slice(0, 63)];
    for (const target of targets) {
      // Act
      const patterns = managedIdentifierPatterns(target);
      // Assess
      for (const execution of ['release-42', 'b7c1f3e0-1c2d-4e5f-8a9b-0c1d2e3f4a5b']) {
        expect(matches(patterns.snapshot, preMigrationSnapshotId(target, execution)), target).toBe(true);
        expect(matches(patterns.restored, restoredIdentifier(target, execution)), target).toBe(true);
        const started = {
          id: `arn:aws:states:::execution:x:${execution}`,
          name: execution,
          startedAt: '2025-06-01T03:00:00Z',
        };
        expect(matches(patterns.backup, backupSnapshotId(target, started)), target).toBe(true);
      }
      expect(matches(patterns.aside, asideIdentifier(target, new Date('2025-06-01T12:00:00Z'))), target).toBe(
        true,
      );
    }
  });

  it('keeps the target as prefix, so that it never matches another database', () => {
    // Act
    const patterns = managedIdentifierPatterns('app-production');
    // Assess
    expect(patterns).toEqual({
      snapshot: 'app-production-premigration-*',
      backup: 'app-production-backup-*',
      restored: 'app-production-restored-*',
      aside: 'app-production-rolledback-*',
    });
    expect(matches(patterns.restored, 'app-staging-restored-1')).toBe(false);
  });
});

describe('IAM of the reports and notifications', () => {
  let resources: Record<string, Resource>;
  let byRole: Map<RoleKey, Statement[]>;

  beforeAll(() => {
    // Prepare
    const { json } = synthesize();
    resources = json.Resources as Record<string, Resource>;
    byRole = statementsByRole(resources);
  });

  /** The flattened logical id of the only resource of `type`. */
  /** The one resource of `type` (the workflow's state machine: its migrate entry is left out). */
  function idOf(type: string): string {
    const ids = Object.entries(resources)
      .filter(([, r]) => r.Type === type && r.Metadata?.[ENTRY_METADATA_KEY] === undefined)
      .map(([id]) => id);
    expect(ids, type).toHaveLength(1);
    return ids[0] as string;
  }

  /** A condition with every token flattened (`flat`). */
  function flatDeep(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    const token = value as Record<string, unknown>;
    if ('Ref' in token || 'Fn::Join' in token || 'Fn::GetAtt' in token) return flat(value);
    return Object.fromEntries(Object.entries(token).map(([key, item]) => [key, flatDeep(item)]));
  }

  /** The report role's statements, minus its log group and X-Ray, as `{ actions, resources, condition }`. */
  function reportStatements() {
    return (byRole.get('report') ?? [])
      .filter((s) => !list(s.Action).some((a) => a.startsWith('logs:') || a.startsWith('xray:')))
      .map((s) => ({
        actions: list(s.Action).sort(),
        resources: list(s.Resource).map(flat),
        condition: s.Condition === undefined ? undefined : flatDeep(s.Condition),
      }));
  }

  it('lets the report function read only the executions of this state machine, and decrypt only their data', () => {
    // Prepare
    const machine = resources[idOf('AWS::StepFunctions::StateMachine')] as Resource;
    const name = machine.Properties.StateMachineName as string;
    const key = idOf('AWS::KMS::Key');
    // Assess
    const statements = reportStatements();
    expect(statements).toContainEqual({
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resources: [`arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}:*`],
      condition: undefined,
    });
    expect(statements).toContainEqual({
      actions: ['kms:Decrypt'],
      resources: [`<${key}.Arn>`],
      condition: {
        StringEquals: {
          'kms:EncryptionContext:aws:states:stateMachineArn': `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:${name}`,
        },
      },
    });
  });

  it('lets the report function put objects only under reports/<state machine>/, encrypted with the key through S3 for this bucket', () => {
    // Prepare
    const name = (resources[idOf('AWS::StepFunctions::StateMachine')] as Resource).Properties
      .StateMachineName as string;
    const bucket = idOf('AWS::S3::Bucket');
    const key = idOf('AWS::KMS::Key');
    // Assess
    const statements = reportStatements();
    expect(statements).toContainEqual({
      actions: ['s3:PutObject'],
      resources: [`<${bucket}.Arn>/reports/${name}/*`],
      condition: undefined,
    });
    expect(statements).toContainEqual({
      actions: ['kms:GenerateDataKey'],
      resources: [`<${key}.Arn>`],
      condition: {
        StringEquals: {
          'kms:ViaService': 's3.<AWS::Region>.amazonaws.com',
          'kms:EncryptionContext:aws:s3:arn': `<${bucket}.Arn>`,
        },
      },
    });
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('s3:'))).toEqual(['s3:PutObject']);
  });

  it('lets the report function and the state machine publish to the topic only, and use its key through SNS only', () => {
    // Prepare
    const topic = idOf('AWS::SNS::Topic');
    const key = idOf('AWS::KMS::Key');
    // Assess
    for (const role of ['report', 'state-machine'] as const) {
      const statements = byRole.get(role) ?? [];
      const publishing = allowing(statements, 'sns:Publish');
      expect(publishing, role).toHaveLength(1);
      expect(list(publishing[0]?.Resource).map(flat), role).toEqual([`<${topic}>`]);
      const viaSns = statements.filter((s) =>
        JSON.stringify(flatDeep(s.Condition ?? {})).includes('sns.<AWS::Region>'),
      );
      expect(viaSns, role).toHaveLength(1);
      expect(list(viaSns[0]?.Action).sort(), role).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      expect(list(viaSns[0]?.Resource).map(flat), role).toEqual([`<${key}.Arn>`]);
    }
    // No other role publishes.
    for (const [role, statements] of byRole) {
      if (role === 'report' || role === 'state-machine') continue;
      expect(allowing(statements, 'sns:Publish'), role).toEqual([]);
    }
  });

  it('gives the report function nothing of the database, RDS or the secret', () => {
    // Assess
    const actions = (byRole.get('report') ?? []).flatMap((s) => list(s.Action));
    expect(actions.filter((a) => /^(rds|secretsmanager|ec2|iam):/.test(a))).toEqual([]);
    expect(actions.sort()).toEqual(
      [
        'kms:Decrypt',
        'kms:Decrypt',
        'kms:GenerateDataKey',
        'kms:GenerateDataKey',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:PutObject',
        'sns:Publish',
        'states:DescribeExecution',
        'states:GetExecutionHistory',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
  });
});

describe('databaseSettings', () => {
  const MONITORING_ROLE = 'arn:aws:iam::123456789012:role/app-production-monitoring';

  function statementsOf(overrides: Parameters<typeof orchestrate>[0]): Map<RoleKey, Statement[]> {
    const { stack } = orchestrate(overrides);
    return statementsByRole(Template.fromStack(stack).toJSON().Resources as Record<string, Resource>);
  }

  it("narrows iam:PassRole and the groups of an instance restore to exactly the original's", () => {
    // Act
    const byRole = statementsOf(({ stack }) => ({
      databaseSettings: {
        roles: [iam.Role.fromRoleArn(stack, 'Monitoring', MONITORING_ROLE)],
        subnetGroupName: 'app-subnets',
        parameterGroupName: 'app-postgres16',
        optionGroupName: 'default:postgres-16',
      },
    }));
    // Assess
    const restore = byRole.get('restore-snapshot') ?? [];
    for (const role of ['restore-snapshot', 'check-restore'] as const) {
      const passRole = allowing(byRole.get(role) ?? [], 'iam:PassRole');
      expect(
        passRole.map((s) => list(s.Resource)),
        role,
      ).toEqual([[MONITORING_ROLE]]);
    }
    const groups = allowing(restore, 'rds:RestoreDBInstanceFromDBSnapshot').find(
      (s) => s.Sid === 'RestoreWithOriginalGroups',
    );
    expect(list(groups?.Resource).map(flat)).toEqual([
      `${ARN_PREFIX}subgrp:app-subnets`,
      `${ARN_PREFIX}pg:app-postgres16`,
      `${ARN_PREFIX}og:default:postgres-16`,
    ]);
  });

  it('grants no iam:PassRole when the original uses no role', () => {
    // Act
    const byRole = statementsOf(() => ({ databaseSettings: { roles: [] } }));
    // Assess
    for (const [role, statements] of byRole) expect(allowing(statements, 'iam:PassRole'), role).toEqual([]);
  });

  it('passes, by default, only roles of this account', () => {
    // Act
    const byRole = statementsOf(() => ({}));
    // Assess
    const passRole = allowing(byRole.get('restore-snapshot') ?? [], 'iam:PassRole');
    expect(passRole.map((s) => list(s.Resource).map(flat))).toEqual([
      ['arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*'],
    ]);
  });

  it('fails when a group name is a pattern or an ARN', () => {
    for (const name of ['app-*', 'arn:aws:rds:us-east-1:123456789012:subgrp:app']) {
      // Act
      const act = () => statementsOf(() => ({ databaseSettings: { subnetGroupName: name } }));
      // Assess
      expect(act, name).toThrow(/databaseSettings\.subnetGroupName must be the name of the group/);
    }
  });

  it('fails when a group does not apply to the target kind', () => {
    // Act
    const onInstance = () =>
      statementsOf(() => ({ databaseSettings: { clusterParameterGroupName: 'app-aurora-pg' } }));
    const onCluster = () =>
      statementsOf(({ cluster }) => ({
        instance: undefined,
        cluster,
        databaseSettings: { optionGroupName: 'app-options' },
      }));
    // Assess
    expect(onInstance).toThrow(/clusterParameterGroupName does not apply to RDS DB instance/);
    expect(onCluster).toThrow(/optionGroupName does not apply to Aurora cluster/);
  });
});
