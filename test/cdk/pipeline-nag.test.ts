import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPipelineApp } from '../../examples/pipeline/pipeline-app.js';
import { acknowledgements, runNag } from './nag-support.js';

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
