#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`. Every setting comes from the context of cdk.json, whose
 * values are EXAMPLES to replace with your database's (or pass `-c key=value`):
 *
 *   targetKind          'instance' (RDS for PostgreSQL) or 'cluster' (Aurora PostgreSQL)
 *   targetIdentifier    the DB instance or cluster identifier
 *   endpoint, port      the instance or cluster (writer) endpoint address and port
 *   securityGroupId     a security group of the database; the functions are allowed into it
 *   secretArn           the complete ARN of the RDS-style credentials secret
 *   databaseUser        instead of secretArn: IAM database authentication as this user (needs databaseName)
 *   databaseName        the database to migrate (default: the secret's dbname)
 *   vpcId, availabilityZones, privateSubnetIds
 *                       the database's VPC and the private subnets (with egress) the functions run in
 *   migrationsDirectory the Prisma migrations folder (default prisma/migrations)
 *   transactionMode     'release' (default: the whole release in one transaction) or 'per-migration'
 *   backupSchedule      optional: an EventBridge Scheduler cron(...) or rate(...) expression that starts backups
 *   backupTimeZone      optional, with backupSchedule: its IANA time zone (default UTC), also the retention's
 *   stackName           the stack's name (default MigrationOrchestrator)
 *
 * Nothing is looked up: synthesis works offline, without an account. cdk-nag's AwsSolutions checks run on
 * every synthesis; acknowledged findings carry their reason next to the resource (lib/private/nag.ts).
 */
import { App } from 'aws-cdk-lib';
import { addStack, DEFAULT_STACK_NAME } from '../lib/stack.js';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? DEFAULT_STACK_NAME;
addStack(app, stackName);
