/**
 * Helpers of the CDK tests: synthesized templates (cached per process), the workflow graph, cdk-nag runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { AslDefinition, AslState } from '../../lib/asl.js';
import { MigrationOrchestrator, type MigrationOrchestratorProps } from '../../lib/orchestrator.js';
import { type BuildAppOptions, buildApp, type MigrationOrchestratorStack } from '../../lib/stack.js';

export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'prisma', 'migrations');
export const SECRET_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-production/database-AbCdEf';

export interface Synthesized {
  readonly app: App;
  readonly stack: MigrationOrchestratorStack;
  readonly template: Template;
  readonly json: Record<string, unknown>;
  readonly outdir: string;
}

/** Synthesizes the example stack (bundling skipped unless asked) into a fresh temporary directory. */
export function synthesize(options: BuildAppOptions = {}): Synthesized {
  const outdir = options.outdir ?? mkdtempSync(join(tmpdir(), 'orchestrator-cdk-'));
  const { app, stack } = buildApp({ nag: false, ...options, outdir });
  const assembly = app.synth();
  const json = assembly.getStackByName(stack.stackName).template as Record<string, unknown>;
  return { app, stack, template: Template.fromJSON(json), json, outdir };
}

/** A bare stack (bundling skipped) with an imported VPC, database and secret, for props tests. */
export function bareStack(): {
  stack: Stack;
  vpc: ec2.IVpc;
  instance: rds.IDatabaseInstance;
  cluster: rds.IDatabaseCluster;
  credentials: secretsmanager.ISecret;
} {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Test');
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
  });
  const securityGroups = [ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0')];
  const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Instance', {
    instanceIdentifier: 'app-production',
    instanceEndpointAddress: 'app-production.c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    port: 5432,
    securityGroups,
  });
  const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Cluster', {
    clusterIdentifier: 'app-aurora',
    clusterEndpointAddress: 'app-aurora.cluster-c1a2b3c4d5e6.us-east-1.rds.amazonaws.com',
    port: 5432,
    securityGroups,
  });
  const credentials = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Secret', SECRET_ARN);
  return { stack, vpc, instance, cluster, credentials };
}

/** A MigrationOrchestrator on `bareStack()` with `overrides` over valid instance props. */
export function orchestrate(
  overrides: (base: ReturnType<typeof bareStack>) => Partial<MigrationOrchestratorProps>,
): { stack: Stack; orchestrator: MigrationOrchestrator } {
  const base = bareStack();
  const orchestrator = new MigrationOrchestrator(base.stack, 'Orchestrator', {
    instance: base.instance,
    credentials: base.credentials,
    vpc: base.vpc,
    migrationsDirectory: MIGRATIONS_DIR,
    ...overrides(base),
  });
  return { stack: base.stack, orchestrator };
}

// ---------------------------------------------------------------------------------------------------------
// The workflow as a graph

/** The states a state can go to next: Next, Choices, Default and Catch targets. */
export function successors(state: AslState): string[] {
  const next = [
    ...(state.Next ? [state.Next] : []),
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Default ? [state.Default] : []),
    ...(state.Catch ?? []).map((catcher) => catcher.Next),
  ];
  return [...new Set(next)];
}

/** Every state reachable from `from` (included). */
export function reachable(definition: AslDefinition, from: string): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const state = definition.States[name];
    if (!state) throw new Error(`The definition has no state "${name}"`);
    queue.push(...successors(state));
  }
  return seen;
}

/** The terminal states (Succeed, Fail, or End) reachable from `from`. */
export function terminalsFrom(definition: AslDefinition, from: string): Set<string> {
  return new Set(
    [...reachable(definition, from)].filter((name) => {
      const state = definition.States[name] as AslState;
      return state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;
    }),
  );
}

export function state(definition: AslDefinition, name: string): AslState {
  const found = definition.States[name];
  if (!found)
    throw new Error(
      `The definition has no state "${name}"; it has ${Object.keys(definition.States).join(', ')}`,
    );
  return found;
}

/** A resource as a flat string: `Fn::Join` concatenated, `Ref` as `<Id>`, `Fn::GetAtt` as `<Id.Attr>`. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const token = value as Record<string, unknown>;
  if (Array.isArray(token['Fn::Join'])) {
    const [separator, parts] = token['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(separator);
  }
  if (typeof token.Ref === 'string') return `<${token.Ref}>`;
  if (Array.isArray(token['Fn::GetAtt'])) return `<${(token['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}
