/**
 * An example release pipeline (CodePipeline V2): Source (a CodeConnections repository), Build (CodeBuild packs
 * the release bundle of `prisma/migrations`, uploads it and writes `migrate-input.json`), Migrate (the
 * orchestrator's state machine, `MigrateAction`), Deploy (a placeholder for the application's deployment). A
 * failed, refused or rolled-back migration fails the Migrate stage, so the application is not deployed.
 *
 * It lives in the orchestrator's stack: the Migrate action's IAM statements then name the state machine by
 * reference, and its cdk-nag acknowledgements match (across stacks they would name an import).
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { MigrationOrchestrator } from '../../lib/orchestrator.js';
import { flattenForNag } from '../../lib/orchestrator.js';
import { MigrateAction, MigrationInput, PIPELINE_EXECUTION_ID } from '../../lib/pipeline.js';
import { BUNDLE_PREFIX } from './bundles-stack.js';
import { acknowledgeArtifactAccess, acknowledgeCodeBuildDefaults } from './nag.js';

/** The file the build writes and the Migrate stage starts the execution with. */
export const MIGRATE_INPUT_FILE = 'migrate-input.json';
export { BUNDLE_PREFIX };

export interface ReleasePipelineProps {
  /**
   * The orchestrator of the database the application uses, with `bundleBucket` and `BUNDLE_PREFIX` as its
   * `releaseBundles` prop: the Migrate stage runs the bundle the build packed.
   */
  readonly orchestrator: MigrationOrchestrator;
  /** Where the build uploads the release bundles (`ReleaseBundlesStack`). */
  readonly bundleBucket: s3.IBucket;
  /** A CodeConnections (CodeStar Connections) connection to the repository host, created in the console. */
  readonly connectionArn: string;
  /** The repository, `owner/name`. */
  readonly repository: string;
  /** The branch released. @default 'main' */
  readonly branch?: string;
}

/** The build: packs the release bundle and writes the execution input. */
export function releaseBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: { 'runtime-versions': { nodejs: '22' }, commands: ['npm ci'] },
      build: {
        commands: [
          'set -euo pipefail',
          `BUNDLE_URI="s3://\${BUNDLE_BUCKET}/${BUNDLE_PREFIX}\${RELEASE}/migrations.zip"`,
          // A deterministic zip of prisma/migrations; bundle.json holds its sha256 and the input naming it.
          'npx prisma-migration-orchestrator pack prisma/migrations --out migrations.zip --s3-uri "$BUNDLE_URI" --json > bundle.json',
          'aws s3 cp migrations.zip "$BUNDLE_URI"',
          // The execution input: the bundle, labelled with this pipeline execution (the same for its retries).
          `node -e 'const b = require("./bundle.json"); require("fs").writeFileSync("${MIGRATE_INPUT_FILE}", ` +
            "JSON.stringify({ ...b.input, release: process.env.RELEASE }))'",
          `cat ${MIGRATE_INPUT_FILE}`,
        ],
      },
    },
    artifacts: { files: [MIGRATE_INPUT_FILE] },
  });
}

export class ReleasePipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  /** Where the build uploads the release bundles (the orchestrator reads them from here). */
  public readonly bundleBucket: s3.IBucket;
  public readonly migrateAction: MigrateAction;

  constructor(scope: Construct, id: string, props: ReleasePipelineProps) {
    super(scope, id);

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const artifactKey = new kms.Key(this, 'ArtifactKey', {
      description: 'Release pipeline: encrypts the pipeline artifacts and the build',
      enableKeyRotation: true,
    });
    const artifactBucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: artifactKey,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bundleBucket = props.bundleBucket;

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket,
      restartExecutionOnUpdate: false,
    });

    const [owner, repo] = props.repository.split('/');
    if (!owner || !repo) {
      throw new Error(
        `ReleasePipeline: repository must be "owner/name", received ${JSON.stringify(props.repository)}.`,
      );
    }
    const source = new codepipeline.Artifact('Source');
    const checkout = new actions.CodeStarConnectionsSourceAction({
      actionName: 'Checkout',
      connectionArn: props.connectionArn,
      owner,
      repo,
      branch: props.branch ?? 'main',
      output: source,
    });
    this.pipeline.addStage({ stageName: 'Source', actions: [checkout] });

    const build = new codebuild.PipelineProject(this, 'PackRelease', {
      description:
        'Release pipeline: packs prisma/migrations into a release bundle and writes the execution input',
      buildSpec: releaseBuildSpec(),
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
      encryptionKey: artifactKey,
      timeout: Duration.minutes(15),
      environmentVariables: {
        BUNDLE_BUCKET: { value: this.bundleBucket.bucketName },
      },
    });
    this.bundleBucket.grantPut(build, `${BUNDLE_PREFIX}*`);
    const buildOutput = new codepipeline.Artifact('Release');
    this.pipeline.addStage({
      stageName: 'Build',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'Pack',
          project: build,
          input: source,
          outputs: [buildOutput],
          // The same for every retry of this pipeline execution: the release label of the migration.
          environmentVariables: { RELEASE: { value: PIPELINE_EXECUTION_ID } },
        }),
      ],
    });

    this.migrateAction = new MigrateAction({
      orchestrator: props.orchestrator,
      input: MigrationInput.fromArtifact(buildOutput.atPath(MIGRATE_INPUT_FILE)),
      variablesNamespace: 'Migration',
    });
    this.pipeline.addStage({ stageName: 'Migrate', actions: [this.migrateAction] });

    const deploy = new codebuild.PipelineProject(this, 'DeployApplication', {
      description: 'Release pipeline: deploys the application (placeholder)',
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        phases: {
          build: {
            commands: [
              'echo "Deploy the application here (cdk deploy, ECS, Lambda, ...): the migrations of this release are applied."',
              'echo "Migration execution: $MIGRATION_EXECUTION_ARN"',
            ],
          },
        },
      }),
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0 },
      encryptionKey: artifactKey,
      timeout: Duration.minutes(15),
    });
    this.pipeline.addStage({
      stageName: 'Deploy',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'DeployApplication',
          project: deploy,
          input: source,
          environmentVariables: { MIGRATION_EXECUTION_ARN: { value: '#{Migration.ExecutionArn}' } },
        }),
      ],
    });

    // cdk-nag: the wildcards of CDK's grants, each with its reason (examples/pipeline/nag.ts).
    acknowledgeArtifactAccess(this.pipeline.role, artifactBucket, 'read-write');
    acknowledgeArtifactAccess(actionRole(this.pipeline, 'Source', 'Checkout'), artifactBucket, 'read-write');
    acknowledgeArtifactAccess(build.role as iam.IRole, artifactBucket, 'read-write');
    acknowledgeArtifactAccess(deploy.role as iam.IRole, artifactBucket, 'read');
    acknowledgeCodeBuildDefaults(build);
    acknowledgeCodeBuildDefaults(deploy);
    Validations.of((build.role as iam.IRole).node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flattenForNag(Stack.of(this), `${this.bundleBucket.bucketArn}/${BUNDLE_PREFIX}*`)}]`,
      reason:
        'The build uploads each release bundle under releases/<pipeline execution id>/, known only at run time: ' +
        's3:PutObject on that prefix of the bundle bucket only.',
    });
  }
}

/** The role CodePipeline created for an action (`<pipeline>/<stage>/<action>/CodePipelineActionRole`). */
function actionRole(pipeline: codepipeline.Pipeline, stageName: string, actionName: string): iam.IRole {
  return pipeline.node
    .findChild(stageName)
    .node.findChild(actionName)
    .node.findChild('CodePipelineActionRole') as iam.IRole;
}
