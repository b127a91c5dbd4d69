import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildPipelineApp } from '../../examples/pipeline/pipeline-app.js';

interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every cdk-nag acknowledgement under `root`, with the path of the construct it is on (as in nag.test.ts). */
function acknowledgements(root: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  const visit = (node: IConstruct) => {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
        const id = qualified.replace(/^[A-Za-z]+::/, '');
        if (id.startsWith('AwsSolutions-')) found.push({ path: node.node.path, id, reason });
      }
    }
    for (const child of node.node.children) visit(child);
  };
  visit(root);
  return found;
}

/** The AwsSolutions pack over `root`: its violations, and which findings an acknowledgement suppressed. */
function runNag(root: IConstruct): { violations: string[]; suppressed: { id: string; path: string }[] } {
  const pack = new AwsSolutionsChecks();
  const suppressed: { id: string; path: string }[] = [];
  const spied = pack as unknown as { isAcknowledged: (node: IConstruct, ruleId: string) => boolean };
  const original = spied.isAcknowledged.bind(pack);
  spied.isAcknowledged = (node, ruleId) => {
    const acknowledged = original(node, ruleId);
    if (acknowledged) suppressed.push({ id: ruleId, path: node.node.path });
    return acknowledged;
  };
  const report = pack.validateScope(root);
  const violations = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? '?'}`),
  );
  return { violations, suppressed };
}

describe('cdk-nag AwsSolutions on the example pipeline', () => {
  it('synthesizes with the checks as a validation plugin and no unacknowledged finding', () => {
    // Act
    const outdir = mkdtempSync(join(tmpdir(), 'pipeline-nag-'));
    const { app } = buildPipelineApp({ nag: true, outdir });
    app.synth();
    // Assess: synth throws on a violation; the report lists none either.
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    const nag = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations)).toEqual([]);
  });

  it('has every acknowledgement suppress a real finding and carry a real reason', () => {
    // Prepare
    const { app } = buildPipelineApp({ nag: false });
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

  it('acknowledges, for the pipeline, only IAM wildcards', () => {
    // Prepare
    const { pipeline } = buildPipelineApp({ nag: false });
    // Act
    const found = acknowledgements(pipeline);
    // Assess
    expect(new Set(found.map((ack) => ack.id.replace(/\[.*$/, '')))).toEqual(new Set(['AwsSolutions-IAM5']));
    // The Migrate action's: the DescribeExecution of its own executions and the read of the input artifact.
    const migrate = found.filter((ack) => ack.path.startsWith('ReleasePipeline/Release/Pipeline/Migrate/'));
    const ids = migrate.map((ack) => ack.id);
    expect(ids).toHaveLength(5);
    expect(ids).toEqual(
      expect.arrayContaining([
        'AwsSolutions-IAM5[Action::s3:GetBucket*]',
        'AwsSolutions-IAM5[Action::s3:GetObject*]',
        'AwsSolutions-IAM5[Action::s3:List*]',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<ReleaseArtifacts[0-9A-F]+\.Arn>\/\*\]$/),
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::arn:.*:execution:.*:pipeline\*\]$/),
      ]),
    );
  });
});
