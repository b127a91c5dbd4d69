// README, "Using it on AWS". In the README, import from './lib/...'.
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { MigrationOrchestrator } from '../../lib/orchestrator.js';

export const app = new App();
const stack = new Stack(app, 'Migrations', { env: { account: '123456789012', region: 'eu-west-1' } });
// Your VPC and database, imported by their attributes (Vpc.fromLookup works too, with AWS credentials at synth).
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
});
const database = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
  instanceIdentifier: 'app-production',
  instanceEndpointAddress: 'app-production.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com',
  port: 5432,
  securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0')],
});

export const orchestrator = new MigrationOrchestrator(stack, 'Orchestrator', {
  instance: database, // or `cluster: rds.IDatabaseCluster` for Aurora
  credentials: secretsmanager.Secret.fromSecretCompleteArn(
    stack,
    'DbSecret',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-production/database-AbCdEf',
  ),
  vpc,
  migrationsDirectory: 'prisma/migrations',
  healthChecks: [{ name: 'orders readable', sql: 'SELECT count(*) >= 0 FROM "Order"' }],
  snapshotTimeout: Duration.hours(2),
});
