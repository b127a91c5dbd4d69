/**
 * The notification topic, its e-mail subscriptions, the rule on this state machine's execution status changes,
 * the report bucket and the rollback-started message the workflow publishes (evaluated by the same interpreter as
 * the local runner).
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../lib/local/polyfills.js';
import { StateNames } from '../../lambdas/shared/contract/contract.js';
import { definitionFromTemplate } from '../../lib/asl.js';
import { orchestrate, synthesize } from './support.js';

let template: Template;
let json: Record<string, unknown>;

beforeAll(() => {
  ({ template, json } = synthesize());
});

function logicalIdOf(type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids, type).toHaveLength(1);
  return ids[0] as string;
}

describe('the notification topic', () => {
  it("is encrypted with the orchestrator's key and refuses non-TLS publishing", () => {
    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf('AWS::KMS::Key'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('subscribes each e-mail address of notifications.emails, and none by default', () => {
    // Assess
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    const { stack } = orchestrate(() => ({
      notifications: { emails: ['ops@example.com', 'dba@example.com'] },
    }));
    const subscribed = Template.fromStack(stack);
    subscribed.resourceCountIs('AWS::SNS::Subscription', 2);
    subscribed.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'dba@example.com',
    });
  });

  it("uses the user's own topic when given, creating none, and grants its key through SNS", () => {
    // Prepare
    const { stack, orchestrator } = orchestrate((base) => {
      const key = kms.Key.fromKeyArn(base.stack, 'TopicKey', 'arn:aws:kms:us-east-1:123456789012:key/abc');
      const topic = sns.Topic.fromTopicAttributes(base.stack, 'Topic', {
        topicArn: 'arn:aws:sns:us-east-1:123456789012:team-alerts',
        keyArn: key.keyArn,
      });
      return { notifications: { topic, emails: ['ops@example.com'] } };
    });
    // Assess
    const own = Template.fromStack(stack);
    own.resourceCountIs('AWS::SNS::Topic', 0);
    expect(orchestrator.topic.topicArn).toBe('arn:aws:sns:us-east-1:123456789012:team-alerts');
    own.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:team-alerts',
      Protocol: 'email',
    });
    const text = JSON.stringify(own.findResources('AWS::IAM::Policy'));
    expect(text).toContain('arn:aws:kms:us-east-1:123456789012:key/abc');
  });

  it('fails when an e-mail address is not one, naming the prop', () => {
    expect(() => orchestrate(() => ({ notifications: { emails: ['ops at example'] } }))).toThrow(
      /notifications\.emails holds "ops at example", which is not an e-mail address/,
    );
  });
});

describe('the rule and the report function', () => {
  it('invokes the report function on the ended executions of this state machine only', () => {
    // Prepare
    // The workflow (the migrate entry's executions are reported through the workflow executions they start).
    const machine = definitionFromTemplate(template.toJSON()).stateMachineLogicalId;
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { REPORT_BUCKET: Match.anyValue() } } },
    });
    const reportFunction = Object.keys(functions)[0] as string;
    // Assess
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: machine }],
          status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [reportFunction, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
    expect(functions[reportFunction]?.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          REPORT_BUCKET: { Ref: logicalIdOf('AWS::S3::Bucket') },
          REPORT_KEY_ARN: { 'Fn::GetAtt': [logicalIdOf('AWS::KMS::Key'), 'Arn'] },
          TOPIC_ARN: { Ref: logicalIdOf('AWS::SNS::Topic') },
        },
      },
    });
    // Not in the VPC: it talks to AWS APIs only, never to the database.
    expect(functions[reportFunction]?.Properties.VpcConfig).toBeUndefined();
  });
});

describe('the report bucket', () => {
  it('is KMS-encrypted with the key, private, TLS only, versioned and expiring after 365 days by default', () => {
    // Assess
    const bucket = logicalIdOf('AWS::S3::Bucket');
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [logicalIdOf('AWS::KMS::Key'), 'Arn'] },
            },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: 365,
            NoncurrentVersionExpiration: { NoncurrentDays: 365 },
          }),
        ],
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires reports after reports.expiration', () => {
    // Act
    const { stack, orchestrator } = orchestrate(() => ({ reports: { expiration: Duration.days(30) } }));
    // Assess
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
    expect(orchestrator.reportBucket).toBeDefined();
  });

  it('fails when reports.expiration is not a whole number of days', () => {
    expect(() => orchestrate(() => ({ reports: { expiration: Duration.hours(36) } }))).toThrow(
      /reports\.expiration must be a whole number of days, at least 1 \(received 1 day 12 hours\)/,
    );
    expect(() => orchestrate(() => ({ reports: { expiration: Duration.hours(12) } }))).toThrow(
      /reports\.expiration/,
    );
  });
});

describe('the rollback-started message', () => {
  it('resolves, on the rollback path, to plain text for e-mail and a valid Chatbot custom notification', async () => {
    // Prepare: the notify state alone, from the synthesized definition, run by the local runner's interpreter.
    const { definition } = definitionFromTemplate(json);
    const { Next: _next, Catch: _catch, ...state } = definition.States[StateNames.notifyRollback] ?? {};
    const notify = { ...state, End: true };
    let parameters: { Message: { default: string; email: string }; Subject: string } | undefined;
    const machine = new StateMachine(
      { StartAt: 'Notify', States: { Notify: notify } } as unknown as StateMachineDefinition,
      { validationOptions: { checkArn: false } },
    );
    // Act
    await machine.run(
      {
        input: {},
        execution: { id: 'arn:aws:states:us-east-1:1:execution:m:rel-1', name: 'rel-1', startedAt: 'x' },
        plan: { targetIdentifier: 'orders-prod' },
        snapshot: { snapshotId: 'orders-prod-premigration-rel-1-ab' },
        error: { Error: 'MigrationFailed', Cause: '{}' },
      } as never,
      {
        overrides: {
          taskResourceLocalHandlers: {
            Notify: async (input: never) => {
              parameters = input;
              return {} as never;
            },
          },
        },
        context: { Execution: { Id: 'arn:aws:states:us-east-1:1:execution:m:rel-1', Name: 'rel-1' } },
      } as never,
    ).result;
    // Assess
    expect(parameters?.Subject).toBe('Rollback started: orders-prod');
    expect(parameters?.Message.email).toMatch(
      /^Rollback started: orders-prod\. The release of execution rel-1 failed with MigrationFailed after it changed the database orders-prod\. The pre-migration snapshot orders-prod-premigration-rel-1-ab /,
    );
    expect(JSON.parse(parameters?.Message.default ?? '')).toEqual({
      version: '1.0',
      source: 'custom',
      content: {
        textType: 'client-markdown',
        title: 'Rollback started: orders-prod',
        description: expect.stringContaining(
          '#/v2/executions/details/arn:aws:states:us-east-1:1:execution:m:rel-1',
        ),
      },
      metadata: {
        threadId: 'arn:aws:states:us-east-1:1:execution:m:rel-1',
        summary: 'Rollback started: orders-prod',
      },
    });
  });
});

describe('the report function bundle', () => {
  it('carries neither the schema library nor pg, and loads without its environment', async () => {
    // Prepare
    const { build } = await import('esbuild');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const outfile = join(mkdtempSync(join(tmpdir(), 'report-bundle-')), 'index.mjs');
    // Act
    const result = await build({
      entryPoints: ['lambdas/report/handler.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    const loaded = (await import(outfile)) as { handler?: unknown };
    // Assess
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /node_modules\/(zod|pg|@prisma|libpg-query)\//.test(input))).toEqual([]);
    expect(inputs).toContain('lambdas/shared/domain/report.ts');
    expect(typeof loaded.handler).toBe('function');
  });
});
