/**
 * How the functions reach the database and the AWS APIs: their security group (when none is given), allowed
 * into the database on its port and out on HTTPS, and the network interface permissions of a function in a
 * VPC.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { Allow } from './nag.js';
import type { ResolvedTarget } from './props-validation.js';

/**
 * The given security groups or, when none are given, a new group `SecurityGroup` under `scope`, allowed
 * into the target on its port and out on HTTPS.
 */
export function functionSecurityGroups(
  scope: Construct,
  vpc: ec2.IVpc,
  target: ResolvedTarget,
  given: readonly ec2.ISecurityGroup[] | undefined,
): ec2.ISecurityGroup[] {
  if (given && given.length > 0) return [...given];
  const group = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc,
    description: 'Migration orchestrator functions: database port to the target, HTTPS to the AWS APIs',
    allowAllOutbound: false,
  });
  group.addEgressRule(
    ec2.Peer.anyIpv4(),
    ec2.Port.tcp(443),
    'HTTPS to the AWS APIs (Secrets Manager, RDS, X-Ray) through NAT or VPC endpoints',
  );
  const port = target.connections.defaultPort;
  if (!port) {
    throw new Error(
      `MigrationOrchestrator: the port of ${target.description} is unknown, so the functions cannot be allowed ` +
        'into it. Pass port to fromDatabaseInstanceAttributes/fromDatabaseClusterAttributes, or pass ' +
        'securityGroups that are already allowed in.',
    );
  }
  target.connections.allowDefaultPortFrom(group, 'Migration orchestrator functions');
  return [group];
}

/** The ENI permissions a function in a VPC needs (what AWSLambdaVPCAccessExecutionRole grants). */
export function grantNetworkInterfaces(role: iam.Role, allow: Allow): void {
  allow(
    role,
    {
      sid: 'LambdaVpcNetworkInterfaces',
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    },
    'ec2 network interface actions of a Lambda function in a VPC (the content of AWSLambdaVPCAccessExecutionRole, ' +
      'inline so that no logs:* on * comes with it): Describe* has no resource-level permission, and Lambda ' +
      'checks Create/DeleteNetworkInterface on the execution role before the interface exists.',
  );
}
