import { type App, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPipelineApp } from '../../examples/pipeline/pipeline-app.js';
import { MIGRATE_INPUT_FILE } from '../../examples/pipeline/pipeline-stack.js';
import { ENTRY_METADATA_KEY } from '../../lib/asl.js';
import type { MigrationOrchestrator } from '../../lib/orchestrator.js';
import { MigrateAction, MigrateStep, MigrationInput, PIPELINE_EXECUTION_ID } from '../../lib/pipeline.js';
import { orchestrate } from './support.js';

interface CfnAction {
  Name: string;
  ActionTypeId: Record<string, string>;
  Configuration: Record<string, unknown>;
  InputArtifacts?: { Name: string }[];
  OutputArtifacts?: { Name: string }[];
  RunOrder?: number;
  RoleArn?: unknown;
}
interface CfnStage {
  Name: string;
  Actions: CfnAction[];
}
interface CfnStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const STEP_FUNCTIONS_INVOKE = { Category: 'Invoke', Owner: 'AWS', Provider: 'StepFunctions', Version: '1' };

function stagesOf(template: Template): CfnStage[] {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelines).toHaveLength(1);
  return (pipelines[0] as { Properties: { Stages: CfnStage[] } }).Properties.Stages;
}

function actionNamed(
  template: Template,
  name: string,
): { stage: CfnStage; action: CfnAction; index: number } {
  const stages = stagesOf(template);
  for (const [index, stage] of stages.entries()) {
    const action = stage.Actions.find((a) => a.Name === name);
    if (action) return { stage, action, index };
  }
  throw new Error(`No action ${name}; stages: ${JSON.stringify(stages.map((s) => s.Name))}`);
}

/** The statements of the policy attached to the role `roleArn` (a Fn::GetAtt of the role) refers to. */
function statementsOfRole(template: Template, roleArn: unknown): CfnStatement[] {
  const roleId = (roleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((r) => r.Ref === roleId),
  );
  expect(policies).toHaveLength(1);
  return (policies[0] as { Properties: { PolicyDocument: { Statement: CfnStatement[] } } }).Properties
    .PolicyDocument.Statement;
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** A pipeline (Source from S3, Build, Migrate) around `migrate`, in the orchestrator's stack. */
function pipelineAround(
  makeMigrate: (orchestrator: MigrationOrchestrator, release: codepipeline.Artifact) => MigrateAction,
): { template: Template; stack: Stack; orchestrator: MigrationOrchestrator } {
  const { stack, orchestrator } = orchestrate(() => ({}));
  const bucket = s3.Bucket.fromBucketName(stack, 'SourceBucket', 'example-source');
  const source = new codepipeline.Artifact('Source');
  const release = new codepipeline.Artifact('Release');
  new codepipeline.Pipeline(stack, 'Pipeline', {
    pipelineType: codepipeline.PipelineType.V2,
    stages: [
      {
        stageName: 'Source',
        actions: [
          new actions.S3SourceAction({ actionName: 'Get', bucket, bucketKey: 'app.zip', output: source }),
        ],
      },
      {
        stageName: 'Build',
        actions: [
          new actions.CodeBuildAction({
            actionName: 'Build',
            project: new codebuild.PipelineProject(stack, 'Build'),
            input: source,
            outputs: [release],
          }),
        ],
      },
      { stageName: 'Migrate', actions: [makeMigrate(orchestrator, release)] },
    ],
  });
  return { template: Template.fromStack(stack), stack, orchestrator };
}

describe('MigrateAction', () => {
  it('starts the state machine with the pipeline execution as the release by default', () => {
    // Act
    const { template, stack, orchestrator } = pipelineAround((o) => new MigrateAction({ orchestrator: o }));
    // Assess
    const { action } = actionNamed(template, 'Migrate');
    expect(action.ActionTypeId).toEqual(STEP_FUNCTIONS_INVOKE);
    expect(action.Configuration).toEqual({
      StateMachineArn: stack.resolve(orchestrator.stateMachine.stateMachineArn),
      Input: JSON.stringify({ release: '#{codepipeline.PipelineExecutionId}' }),
      InputType: 'Literal',
      ExecutionNamePrefix: 'pipeline',
    });
    expect(action.InputArtifacts).toBeUndefined();
  });

  it('reads the input from a file of the build output', () => {
    // Act
    const { template } = pipelineAround(
      (o, release) =>
        new MigrateAction({
          orchestrator: o,
          input: MigrationInput.fromArtifact(release.atPath('migrate-input.json')),
          executionNamePrefix: 'release',
          actionName: 'MigrateDatabase',
        }),
    );
    // Assess
    const { action } = actionNamed(template, 'MigrateDatabase');
    expect(action.Configuration).toMatchObject({
      Input: 'migrate-input.json',
      InputType: 'FilePath',
      ExecutionNamePrefix: 'release',
    });
    expect(action.InputArtifacts).toEqual([{ Name: 'Release' }]);
  });

  it('passes a literal input as written, CodePipeline variables included', () => {
    // Act
    const { template } = pipelineAround(
      (o) =>
        new MigrateAction({
          orchestrator: o,
          input: MigrationInput.literal({ release: PIPELINE_EXECUTION_ID, transactionMode: 'per-migration' }),
        }),
    );
    // Assess
    expect(JSON.parse(actionNamed(template, 'Migrate').action.Configuration.Input as string)).toEqual({
      release: '#{codepipeline.PipelineExecutionId}',
      transactionMode: 'per-migration',
    });
  });

  it('gives its role only this state machine, its executions and its key for this state machine', () => {
    // Act
    const { template, stack, orchestrator } = pipelineAround(
      (o, release) =>
        new MigrateAction({
          orchestrator: o,
          input: MigrationInput.fromArtifact(release.atPath('migrate-input.json')),
        }),
    );
    // Assess
    const statements = statementsOfRole(template, actionNamed(template, 'Migrate').action.RoleArn);
    const machineArn = stack.resolve(orchestrator.stateMachine.stateMachineArn);
    const states = statements.filter((s) => list(s.Action).some((a) => a.startsWith('states:')));
    expect(states.map((s) => list(s.Action).sort())).toEqual([
      ['states:DescribeStateMachine', 'states:StartExecution'],
      ['states:DescribeExecution'],
    ]);
    expect(states[0]?.Resource).toEqual(machineArn);
    // execution:<state machine name>:pipeline*, the name taken from this state machine's ARN.
    const executions = JSON.stringify(states[1]?.Resource);
    expect(executions).toContain(':execution:');
    expect(executions).toContain(':pipeline*');
    expect(executions).toContain(JSON.stringify(machineArn));
    const kms = statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')));
    expect(kms).toContainEqual({
      Sid: 'EncryptTheDataOfThisWorkflow',
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: stack.resolve(orchestrator.encryptionKey.keyArn),
      Condition: { StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': machineArn } },
    });
    // Nothing else: no StopExecution, no other state machine, no wildcard resource; S3 only on the artifacts.
    const actionsGranted = statements.flatMap((s) => list(s.Action));
    expect(actionsGranted).not.toContain('states:StopExecution');
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(list(statement.Resource as string | string[])).not.toContain('*');
      for (const action of list(statement.Action)) expect(action).toMatch(/^(states|kms|s3):/);
    }
  });

  it('grants no KMS use of the key without the encryption context of this state machine', () => {
    // Act
    const { template } = pipelineAround((o) => new MigrateAction({ orchestrator: o }));
    // Assess
    const statements = statementsOfRole(template, actionNamed(template, 'Migrate').action.RoleArn);
    for (const statement of statements.filter((s) => list(s.Action).some((a) => a.startsWith('kms:')))) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'kms:EncryptionContext:aws:states:stateMachineArn': expect.anything() },
      });
    }
  });

  it.each([
    ['has a character Step Functions refuses', 'my prefix'],
    ['is a CodePipeline variable', '#{codepipeline.PipelineExecutionId}'],
    ['is longer than 43 characters', 'p'.repeat(44)],
    ['is empty', ''],
  ])('fails when executionNamePrefix %s', (_, prefix) => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    // Act
    const act = () => new MigrateAction({ orchestrator, executionNamePrefix: prefix });
    // Assess
    expect(act).toThrow(/executionNamePrefix must be 1 to 43 letters, digits, "-" or "_".*received/);
  });

  it('accepts an executionNamePrefix of 43 characters', () => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    // Act
    const act = () => new MigrateAction({ orchestrator, executionNamePrefix: 'p'.repeat(43) });
    // Assess
    expect(act).not.toThrow();
  });

  it('fails when the literal input has a field the workflow refuses', () => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    // Act
    const act = () =>
      new MigrateAction({ orchestrator, input: MigrationInput.literal({ release: 'v1', dryrun: true }) });
    // Assess
    expect(act).toThrow(/the literal input .* is not a valid execution input: .*dryrun/);
  });

  it('fails when the literal input has a value the workflow refuses', () => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    // Act
    const act = () =>
      new MigrateAction({ orchestrator, input: MigrationInput.literal({ transactionMode: 'all' }) });
    // Assess
    expect(act).toThrow(/input\.transactionMode/);
  });

  it('fails when given a CDK Pipelines file set', () => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    const pack = new pipelines.ShellStep('Pack', { commands: ['true'], primaryOutputDirectory: 'out' });
    // Act
    const act = () =>
      new MigrateAction({ orchestrator, input: MigrationInput.fromFileSet(pack, 'migrate-input.json') });
    // Assess
    expect(act).toThrow(
      /a CDK Pipelines file set, which a CodePipeline action cannot read\. Use MigrateStep/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// CDK Pipelines

/** A pipelines.CodePipeline with the orchestrator in its stack and an application stage behind `pre`. */
function cdkPipeline(
  pre: (orchestrator: MigrationOrchestrator, synth: pipelines.ShellStep) => pipelines.Step[],
): {
  template: Template;
  stack: Stack;
  orchestrator: MigrationOrchestrator;
} {
  const { stack, orchestrator } = orchestrate(() => ({}));
  const synth = new pipelines.ShellStep('Synth', {
    input: pipelines.CodePipelineSource.s3(
      s3.Bucket.fromBucketName(stack, 'SourceBucket', 'example-source'),
      'app.zip',
    ),
    commands: ['npm ci', 'npx cdk synth'],
  });
  const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', { synth, selfMutation: false });
  const application = new Stage(stack.node.scope as App, 'Production');
  new ssm.StringParameter(new Stack(application, 'Api'), 'Version', { stringValue: 'v1' });
  pipeline.addStage(application, { pre: pre(orchestrator, synth) });
  pipeline.buildPipeline();
  return { template: Template.fromStack(stack), stack, orchestrator };
}

describe('MigrateStep', () => {
  it('produces the same action before the application is deployed, after the build', () => {
    // Act
    const { template, stack, orchestrator } = cdkPipeline((o) => [
      new MigrateStep('Migrate', { orchestrator: o }),
    ]);
    // Assess
    const { stage, action, index } = actionNamed(template, 'Migrate');
    expect(action.ActionTypeId).toEqual(STEP_FUNCTIONS_INVOKE);
    expect(action.Configuration).toEqual({
      StateMachineArn: stack.resolve(orchestrator.stateMachine.stateMachineArn),
      Input: JSON.stringify({ release: '#{codepipeline.PipelineExecutionId}' }),
      InputType: 'Literal',
      ExecutionNamePrefix: 'pipeline',
    });
    expect(index).toBeGreaterThan(actionNamed(template, 'Synth').index);
    expect(stage.Name).toBe('Production');
    const deploys = stage.Actions.filter((a) => a.ActionTypeId.Provider === 'CloudFormation');
    expect(deploys.length).toBeGreaterThan(0);
    for (const deploy of deploys) expect(deploy.RunOrder).toBeGreaterThan(action.RunOrder ?? 1);
    const statements = statementsOfRole(template, action.RoleArn);
    expect(statements.flatMap((s) => list(s.Action))).toEqual(
      expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution', 'kms:GenerateDataKey']),
    );
  });

  it('reads the input from the file of the step that writes it, after that step', () => {
    // Act
    const { template } = cdkPipeline((o, synth) => {
      const pack = new pipelines.ShellStep('Pack', {
        input: synth,
        commands: ['npx prisma-migration-orchestrator pack prisma/migrations > out/migrate-input.json'],
        primaryOutputDirectory: 'out',
      });
      return [
        pack,
        new MigrateStep('Migrate', {
          orchestrator: o,
          input: MigrationInput.fromFileSet(pack, 'migrate-input.json'),
        }),
      ];
    });
    // Assess
    const migrate = actionNamed(template, 'Migrate');
    const pack = actionNamed(template, 'Pack');
    expect(migrate.action.Configuration).toMatchObject({
      Input: 'migrate-input.json',
      InputType: 'FilePath',
    });
    expect(migrate.action.InputArtifacts).toEqual(pack.action.OutputArtifacts);
    expect(pack.action.OutputArtifacts).toHaveLength(1);
    expect(migrate.index).toBe(pack.index);
    expect(migrate.action.RunOrder ?? 1).toBeGreaterThan(pack.action.RunOrder ?? 1);
  });

  it('fails when given a CodePipeline artifact', () => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    // Act
    const act = () =>
      new MigrateStep('Migrate', {
        orchestrator,
        input: MigrationInput.fromArtifact(new codepipeline.Artifact('Release').atPath('migrate-input.json')),
      });
    // Assess
    expect(act).toThrow(/MigrateStep Migrate: input is MigrationInput\.fromArtifact/);
  });

  it('fails when the file set producer has no output', () => {
    // Prepare
    const { orchestrator } = orchestrate(() => ({}));
    const pack = new pipelines.ShellStep('Pack', { commands: ['true'] });
    // Act
    const act = () =>
      new MigrateStep('Migrate', {
        orchestrator,
        input: MigrationInput.fromFileSet(pack, 'migrate-input.json'),
      });
    // Assess
    expect(act).toThrow(/names a step without an output\. Give that step a primaryOutputDirectory/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The example pipeline

describe('the example pipeline', () => {
  let template: Template;
  let machineArn: unknown;
  let bundleBucket: { readonly name: unknown; readonly arn: unknown };
  let bundlesTemplate: Template;
  beforeAll(() => {
    const { stack, bundles } = buildPipelineApp({ nag: false });
    template = Template.fromStack(stack);
    machineArn = stack.resolve(stack.orchestrator.stateMachine.stateMachineArn);
    // The bundle bucket of the bundles stack, as the orchestrator's stack names it (by its ARN).
    bundleBucket = { name: bundles.byArn.bucketName, arn: bundles.bucketArn };
    bundlesTemplate = Template.fromStack(bundles);
  });

  it('runs the bundle the build packed: the build uploads to the bucket the orchestrator reads, under releases/', () => {
    // Act
    const pack = Object.values(
      template.findResources('AWS::CodeBuild::Project', {
        Properties: { Description: Match.stringLikeRegexp('packs prisma/migrations') },
      }),
    )[0] as {
      Properties: { Environment: { EnvironmentVariables: unknown[] }; Source: { BuildSpec: string } };
    };
    const readers = Object.values(
      template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { RELEASE_BUNDLE_BUCKET: Match.anyValue() } } },
      }),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } }[];
    // Assess: the bucket of the bundles stack, named by its ARN in the orchestrator's stack (no cross-stack export)
    expect(bundleBucket).toEqual({
      name: 'release-bundles-123456789012-us-east-1',
      arn: 'arn:aws:s3:::release-bundles-123456789012-us-east-1',
    });
    bundlesTemplate.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'release-bundles-123456789012-us-east-1',
      VersioningConfiguration: { Status: 'Enabled' },
    });
    // ... is the build's
    expect(pack.Properties.Environment.EnvironmentVariables).toContainEqual({
      Name: 'BUNDLE_BUCKET',
      Type: 'PLAINTEXT',
      Value: bundleBucket.name,
    });
    const commands = (
      JSON.parse(pack.Properties.Source.BuildSpec) as { phases: { build: { commands: string[] } } }
    ).phases.build.commands;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the build spec names shell variables
    expect(commands).toContain('BUNDLE_URI="s3://${BUNDLE_BUCKET}/releases/${RELEASE}/migrations.zip"');
    expect(commands).toContain('aws s3 cp migrations.zip "$BUNDLE_URI"');
    // ... is the one preflight and apply read (the whole release: both load the migrations), under releases/ only.
    expect(readers.length).toBeGreaterThanOrEqual(2);
    for (const reader of readers) {
      expect(reader.Properties.Environment.Variables).toMatchObject({
        RELEASE_BUNDLE_BUCKET: bundleBucket.name,
        RELEASE_BUNDLE_PREFIX: 'releases/',
      });
    }
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReadReleaseBundles',
            Action: 's3:GetObject',
            Resource: `${bundleBucket.arn}/releases/*`,
          }),
        ]),
      },
    });
  });

  it('has the stages Source, Build, Migrate, Deploy in this order', () => {
    expect(stagesOf(template).map((stage) => stage.Name)).toEqual(['Source', 'Build', 'Migrate', 'Deploy']);
  });

  it("migrates with the build's input file, through the orchestrator's state machine", () => {
    // Act
    const build = actionNamed(template, 'Pack').action;
    const { action } = actionNamed(template, 'Migrate');
    // Assess
    expect(action.ActionTypeId).toEqual(STEP_FUNCTIONS_INVOKE);
    expect(action.Configuration).toMatchObject({
      Input: MIGRATE_INPUT_FILE,
      InputType: 'FilePath',
      ExecutionNamePrefix: 'pipeline',
      StateMachineArn: machineArn,
    });
    expect(action.InputArtifacts).toEqual(build.OutputArtifacts);
    // The workflow, not its migrate entry (which starts migrations only, for operators without the pipeline).
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const workflows = Object.keys(machines).filter(
      (id) => machines[id]?.Metadata?.[ENTRY_METADATA_KEY] === undefined,
    );
    expect(workflows).toEqual([(machineArn as { Ref: string }).Ref]);
  });

  it('packs the release bundle in the build and labels it with the pipeline execution', () => {
    // Act
    const build = actionNamed(template, 'Pack').action;
    const projects = template.findResources('AWS::CodeBuild::Project', {
      Properties: { Description: Match.stringLikeRegexp('packs prisma/migrations') },
    });
    const spec = (Object.values(projects)[0] as { Properties: { Source: { BuildSpec: string } } }).Properties
      .Source.BuildSpec;
    // Assess
    expect(JSON.parse(build.Configuration.EnvironmentVariables as string)).toEqual([
      { name: 'RELEASE', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' },
    ]);
    expect(spec).toContain('npx prisma-migration-orchestrator pack prisma/migrations');
    expect(JSON.parse(spec).artifacts).toEqual({ files: [MIGRATE_INPUT_FILE] });
  });

  it('deploys the application after the migration, with its execution ARN', () => {
    // Act
    const { action } = actionNamed(template, 'DeployApplication');
    // Assess
    expect(JSON.parse(action.Configuration.EnvironmentVariables as string)).toEqual([
      { name: 'MIGRATION_EXECUTION_ARN', type: 'PLAINTEXT', value: '#{Migration.ExecutionArn}' },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The README's examples, as printed (examples/pipeline/readme/*.ts)

describe("the README's pipeline examples", () => {
  it.each([
    [
      'CodePipeline',
      '../../examples/pipeline/readme/codepipeline.js',
      'Release',
      ['Source', 'Build', 'Migrate', 'Deploy'],
    ],
    [
      'CDK Pipelines',
      '../../examples/pipeline/readme/cdk-pipelines.js',
      'ReleasePipeline',
      ['Source', 'Build', 'UpdatePipeline', 'Production'],
    ],
  ])(
    'synthesizes the %s example with the migration before the deployment',
    async (_, module, stackName, stages) => {
      // Prepare: no bundling of the orchestrator's functions (the examples build a plain `new App()`).
      const previous = process.env.CDK_CONTEXT_JSON;
      process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
      try {
        // Act
        const { app } = (await import(module)) as { app: App };
        const assembly = app.synth();
        const template = Template.fromJSON(
          assembly.getStackByName(stackName).template as Record<string, unknown>,
        );
        // Assess
        expect(stagesOf(template).map((stage) => stage.Name)).toEqual(stages);
        const { action, index } = actionNamed(template, 'Migrate');
        expect(action.ActionTypeId).toEqual(STEP_FUNCTIONS_INVOKE);
        // Every action of the last stage (the application's deployment) runs after the migration.
        const last = stagesOf(template).length - 1;
        const deployment = (stagesOf(template)[last] as CfnStage).Actions.filter((a) => a.Name !== 'Migrate');
        expect(deployment.length).toBeGreaterThan(0);
        for (const other of deployment) {
          if (index === last) expect(other.RunOrder ?? 1).toBeGreaterThan(action.RunOrder ?? 1);
          else expect(index).toBeLessThan(last);
        }
      } finally {
        if (previous === undefined) delete process.env.CDK_CONTEXT_JSON;
        else process.env.CDK_CONTEXT_JSON = previous;
      }
    },
  );
});
