// README, "Migrating from a pipeline": CodePipeline (aws-codepipeline). In the README, import from './lib/...'.
import { App, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { MigrationOrchestrator } from '../../../lib/orchestrator.js';
import { MigrateAction, MigrationInput } from '../../../lib/pipeline.js';

export const app = new App();
const stack = new Stack(app, 'Release', { env: { account: '123456789012', region: 'eu-west-1' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
});
const orchestrator = new MigrationOrchestrator(stack, 'Orchestrator', {
  instance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
    instanceIdentifier: 'app-production',
    instanceEndpointAddress: 'app-production.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com',
    port: 5432,
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0')],
  }),
  credentials: secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'DbSecret',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-production/database-AbCdEf',
  ),
  vpc,
  migrationsDirectory: 'prisma/migrations',
});

const source = new codepipeline.Artifact('Source');
const release = new codepipeline.Artifact('Release'); // the build writes migrate-input.json into it
new codepipeline.Pipeline(stack, 'Pipeline', {
  pipelineType: codepipeline.PipelineType.V2,
  stages: [
    {
      stageName: 'Source',
      actions: [
        new actions.CodeStarConnectionsSourceAction({
          actionName: 'Checkout',
          connectionArn:
            'arn:aws:codeconnections:eu-west-1:123456789012:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
          owner: 'example-org',
          repo: 'example-app',
          branch: 'main',
          output: source,
        }),
      ],
    },
    {
      stageName: 'Build',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'Build',
          project: new codebuild.PipelineProject(stack, 'Build'), // buildspec.yml of the repository
          input: source,
          outputs: [release],
        }),
      ],
    },
    {
      stageName: 'Migrate',
      actions: [
        new MigrateAction({
          orchestrator,
          // Or leave `input` out: { "release": "#{codepipeline.PipelineExecutionId}" }
          input: MigrationInput.fromArtifact(release.atPath('migrate-input.json')),
        }),
      ],
    },
    {
      stageName: 'Deploy',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'DeployApplication',
          project: new codebuild.PipelineProject(stack, 'Deploy'), // your deployment
          input: source,
        }),
      ],
    },
  ],
});
