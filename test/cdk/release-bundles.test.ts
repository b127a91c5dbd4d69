/**
 * The releaseBundles prop: only the functions that load migrations may read the bundles, only under the bucket
 * and prefix given, and only they get the RELEASE_BUNDLE_* variables; none of it without the prop; the prop is
 * checked.
 */
import { Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { type Step, Steps } from '../../lambdas/shared/contract/contract.js';
import type { MigrationOrchestrator } from '../../lib/orchestrator.js';
import { orchestrate } from './support.js';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

function statements(orchestrator: MigrationOrchestrator, step: Step): Statement[] {
  const role = orchestrator.functions[step].role as iam.Role;
  // The default policy, and the policies of their own of the statements with a wildcard.
  const policies = role.node.children.filter((child): child is iam.Policy => child instanceof iam.Policy);
  return policies.flatMap(
    (policy) => (Stack.of(role).resolve(policy.document.toJSON()) as { Statement: Statement[] }).Statement,
  );
}

function actionsOf(orchestrator: MigrationOrchestrator, step: Step): string[] {
  return statements(orchestrator, step).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

function environmentOf(orchestrator: MigrationOrchestrator, step: Step): Record<string, unknown> {
  const fn = orchestrator.functions[step].node.defaultChild as lambda.CfnFunction;
  const env = Stack.of(fn).resolve(fn.environment) as { variables?: Record<string, unknown> };
  return env.variables ?? {};
}

function withBundles(options: { prefix?: string; checkSchemaDrift?: boolean; encrypted?: boolean } = {}) {
  let bucket: s3.IBucket | undefined;
  const { stack, orchestrator } = orchestrate((base) => {
    bucket = options.encrypted
      ? s3.Bucket.fromBucketAttributes(base.stack, 'Bundles', {
          bucketName: 'release-bundles-123',
          encryptionKey: kms.Key.fromKeyArn(
            base.stack,
            'BundleKey',
            'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
          ),
        })
      : s3.Bucket.fromBucketName(base.stack, 'Bundles', 'release-bundles-123');
    return {
      releaseBundles: { bucket, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) },
      ...(options.checkSchemaDrift ? { checkSchemaDrift: true } : {}),
    };
  });
  return { stack, orchestrator };
}

const LOADING: readonly Step[] = ['preflight', 'apply-migrations'];

describe('releaseBundles', () => {
  it('grants s3:GetObject on bucket/prefix* to preflight and apply only', () => {
    // Act
    const { orchestrator } = withBundles({ prefix: 'releases/' });

    // Assess
    for (const step of Steps) {
      const reads = statements(orchestrator, step).filter((s) => s.Sid === 'ReadReleaseBundles');
      if (LOADING.includes(step)) {
        expect(reads, step).toEqual([
          {
            Sid: 'ReadReleaseBundles',
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::release-bundles-123/releases/*']],
            },
          },
        ]);
      } else {
        expect(reads, step).toEqual([]);
        expect(
          actionsOf(orchestrator, step).filter((a) => a.startsWith('s3:')),
          step,
        ).toEqual([]);
      }
    }
  });

  it('sets RELEASE_BUNDLE_* on the functions that load migrations only', () => {
    const { orchestrator } = withBundles({ prefix: 'releases/' });
    for (const step of Steps) {
      const env = environmentOf(orchestrator, step);
      if (LOADING.includes(step)) {
        expect(env, step).toMatchObject({
          RELEASE_BUNDLE_BUCKET: 'release-bundles-123',
          RELEASE_BUNDLE_PREFIX: 'releases/',
          RELEASE_BUNDLE_MAX_BYTES: String(50 * 1024 * 1024),
        });
      } else {
        expect(
          Object.keys(env).filter((k) => k.startsWith('RELEASE_BUNDLE')),
          step,
        ).toEqual([]);
      }
    }
  });

  it('also grants verify-health when it checks schema drift (it replays the migrations)', () => {
    const { orchestrator } = withBundles({ checkSchemaDrift: true });
    expect(statements(orchestrator, 'verify-health').map((s) => s.Sid)).toContain('ReadReleaseBundles');
    expect(environmentOf(orchestrator, 'verify-health')).toHaveProperty('RELEASE_BUNDLE_BUCKET');
    expect(environmentOf(orchestrator, 'verify-health')).not.toHaveProperty('RELEASE_BUNDLE_PREFIX');
  });

  it("grants kms:Decrypt through S3 on the bucket's key, to the same functions", () => {
    const { orchestrator } = withBundles({ encrypted: true });
    for (const step of Steps) {
      const decrypt = statements(orchestrator, step).filter((s) => s.Sid === 'DecryptReleaseBundles');
      expect(decrypt.length, step).toBe(LOADING.includes(step) ? 1 : 0);
    }
    expect(
      statements(orchestrator, 'preflight').find((s) => s.Sid === 'DecryptReleaseBundles'),
    ).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555',
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
        },
      },
    });
  });

  it('grants nothing and sets nothing without the prop', () => {
    const { orchestrator } = orchestrate(() => ({}));
    for (const step of Steps) {
      expect(
        actionsOf(orchestrator, step).filter((a) => a.startsWith('s3:')),
        step,
      ).toEqual([]);
      expect(
        Object.keys(environmentOf(orchestrator, step)).filter((k) => k.startsWith('RELEASE_BUNDLE')),
        step,
      ).toEqual([]);
    }
  });

  it('fails when the prefix starts with "/" or holds a wildcard, or maxSize is out of range', () => {
    const build = (options: { prefix?: string; maxSize?: Size }) => () =>
      orchestrate((base) => ({
        releaseBundles: {
          bucket: s3.Bucket.fromBucketName(base.stack, 'B', 'release-bundles-123'),
          ...options,
        },
      }));
    expect(build({ prefix: '/releases/' })).toThrow(/releaseBundles\.prefix starts with "\/"/);
    expect(build({ prefix: 'releases/*' })).toThrow(/releaseBundles\.prefix contains \* or \?/);
    expect(build({ maxSize: Size.gibibytes(2) })).toThrow(
      /releaseBundles\.maxSize must be between 1 KiB and 512 MiB/,
    );
    expect(build({ maxSize: Size.mebibytes(10) })).not.toThrow();
  });
});
