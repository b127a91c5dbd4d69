// README, "Migrating from a pipeline": CDK Pipelines (pipelines.CodePipeline). In the README, import from './lib/...'.
import { App, Stack, Stage, type StageProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { MigrationOrchestrator } from '../../../lib/orchestrator.js';
import { MigrateStep } from '../../../lib/pipeline.js';

/** Your application: its stacks, deployed after the migration. */
class Application extends Stage {
  constructor(scope: Construct, id: string, props?: StageProps) {
    super(scope, id, props);
    const api = new Stack(this, 'Api');
    new ssm.StringParameter(api, 'Version', { stringValue: 'v1' });
  }
}

const env = { account: '123456789012', region: 'eu-west-1' };
export const app = new App();
// The orchestrator lives in the pipeline's stack: self-mutation redeploys it (with this commit's migrations)
// before the Migrate step runs.
const stack = new Stack(app, 'ReleasePipeline', { env });
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

const pipeline = new pipelines.CodePipeline(stack, 'Pipeline', {
  synth: new pipelines.ShellStep('Synth', {
    input: pipelines.CodePipelineSource.connection('example-org/example-app', 'main', {
      connectionArn:
        'arn:aws:codeconnections:eu-west-1:123456789012:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    }),
    commands: ['npm ci', 'npx cdk synth'],
  }),
});
// Migrate first; the application's stacks deploy only if the migration succeeded (or had nothing to do).
pipeline.addStage(new Application(app, 'Production', { env }), {
  pre: [new MigrateStep('Migrate', { orchestrator })],
});
