import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArnFormat } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { buildApp, type TargetKind } from '../../lib/stack.js';
import { acknowledgements, runNag } from './nag-support.js';
import { synthesize } from './support.js';

/**
 * The stacks the checks run on: both target kinds, one with the backup schedule (its role and queue), and one with IAM
 * database authentication.
 */
const STACKS: { name: string; targetKind: TargetKind; context?: Record<string, unknown> }[] = [
  { name: 'instance', targetKind: 'instance' },
  { name: 'cluster', targetKind: 'cluster' },
  { name: 'scheduled-backups', targetKind: 'cluster', context: { backupSchedule: 'cron(0 3 * * ? *)' } },
  // IAM database authentication: rds-db:connect on dbuser:db-*/<user>, acknowledged on its own statement.
  {
    name: 'IAM-auth',
    targetKind: 'instance',
    context: { secretArn: null, databaseUser: 'migrator', databaseName: 'app' },
  },
];

describe.each(STACKS)('cdk-nag AwsSolutions on the $name stack', ({ targetKind, context }) => {
  it('synthesizes with the checks as a validation plugin and no unacknowledged finding', () => {
    // Act
    const { outdir } = synthesize({ targetKind, nag: true, ...(context ? { context } : {}) });
    // Assess: synth throws on a violation; the report lists none either.
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    const nag = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations)).toEqual([]);
  });

  it('has every acknowledgement suppress a real finding and carry a real reason', () => {
    // Prepare
    const { app } = synthesize({ targetKind, ...(context ? { context } : {}) });
    // Act
    const { violations, suppressed } = runNag(app);
    const acknowledged = acknowledgements(app);
    // Assess
    expect(violations).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const ack of acknowledged) {
      const used = suppressed.some(
        (s) => s.id === ack.id && (s.path === ack.path || s.path.startsWith(`${ack.path}/`)),
      );
      expect(used, `${ack.id} on ${ack.path} suppresses nothing`).toBe(true);
      expect(ack.reason.length, `${ack.id} on ${ack.path}`).toBeGreaterThanOrEqual(60);
      expect(ack.reason, ack.id).not.toMatch(/^(todo|n\/a|ok|fine|ignore|not needed)\b/i);
    }
  });
});

describe('cdk-nag AwsSolutions acknowledgements', () => {
  it("acknowledge only wildcards of IAM policies, the runtime choice and the report bucket's access log", () => {
    // Prepare
    const { app } = synthesize();
    // Act
    const found = acknowledgements(app);
    const ids = new Set(found.map((ack) => ack.id.replace(/\[.*$/, '')));
    // Assess
    expect(ids).toEqual(new Set(['AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-S1']));
    expect(found.filter((ack) => ack.id === 'AwsSolutions-S1').map((ack) => ack.path)).toEqual([
      'MigrationOrchestrator/Orchestrator/Reports/Bucket',
    ]);
  });

  it('acknowledge, with backups scheduled, only that the dead-letter queue has no dead-letter queue of its own', () => {
    // Prepare
    const { app } = synthesize({ context: { backupSchedule: 'rate(1 day)' } });
    // Act
    const found = acknowledgements(app);
    const sqs = found.filter((ack) => ack.id.startsWith('AwsSolutions-SQS'));
    // Assess
    expect(new Set(found.map((ack) => ack.id.replace(/\[.*$/, '')))).toEqual(
      new Set(['AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-S1', 'AwsSolutions-SQS3']),
    );
    expect(sqs.map((ack) => ack.path)).toEqual(['MigrationOrchestrator/Orchestrator/BackupDeadLetterQueue']);
    // The schedule's role has no wildcard to acknowledge.
    expect(found.filter((ack) => ack.path.includes('BackupScheduleRole'))).toEqual([]);
  });
});

describe('buildApp', () => {
  it('synthesizes the example stack without any warning', () => {
    // Act
    const { app, stack } = synthesize();
    const messages = app.synth().getStackByName(stack.stackName).messages;
    // Assess
    expect(messages.filter((m) => m.level !== 'info').map((m) => `${m.id}: ${String(m.entry.data)}`)).toEqual(
      [],
    );
  });

  // The review's finding: a rds:DeleteDBInstance added to a role was covered by the role's blanket acknowledgements.
  it.each([
    ['*', /rds:DeleteDBInstance on \* is in .*CheckRestoreRole\/DefaultPolicy/],
    // The pattern another statement of this role has (DescribeClusterMembers on db:*): acknowledged on that
    // statement's own policy, so it covers nothing else.
    ['db:*', /AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:\*\]/],
  ])(
    'fails the synthesis when a statement on %s is added to a role whose other statements have it acknowledged',
    (resource, error) => {
      // Prepare
      const { app, stack } = buildApp({
        nag: true,
        targetKind: 'cluster',
        outdir: mkdtempSync(join(tmpdir(), 'nag-per-statement-')),
      });
      const role = stack.orchestrator.functions['check-restore'].role as iam.Role;
      const arn =
        resource === '*'
          ? '*'
          : stack.formatArn({
              service: 'rds',
              resource: 'db',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            });
      role.addToPolicy(new iam.PolicyStatement({ actions: ['rds:DeleteDBInstance'], resources: [arn] }));
      // Act
      const act = () => app.synth();
      // Assess
      expect(act).toThrow(error);
    },
  );

  it('fails the synthesis on an unacknowledged finding (the checks are wired in)', () => {
    // Prepare
    const { app, stack } = buildApp({ nag: true, outdir: mkdtempSync(join(tmpdir(), 'nag-canary-')) });
    const canary = new iam.Role(stack, 'Canary', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    canary.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }),
    );
    // Act
    const act = () => app.synth();
    // Assess
    expect(act).toThrow(/AwsSolutions-IAM5\[Resource::arn:aws:s3:::bucket\/\*\]/);
  });
});
