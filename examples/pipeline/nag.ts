/**
 * cdk-nag AwsSolutions acknowledgements of the example pipeline, each on the policy it concerns: the wildcards of
 * CDK's grants on the pipeline's own artifact bucket and key, and CodeBuild's per-project logs and report groups.
 * (The Migrate action acknowledges its own, in lib/pipeline.ts.)
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { flattenForNag } from '../../lib/orchestrator.js';

const ARTIFACT_OBJECTS =
  "CDK's grant on the pipeline's own artifact bucket: artifacts are objects whose keys CodePipeline chooses per " +
  'execution, and the actions are the S3 read (and, for producers, write) groups on that bucket only.';
const ARTIFACT_KEY =
  "CDK's grant on the pipeline's own artifact key (kms:GenerateDataKey*, kms:ReEncrypt* groups), to encrypt and " +
  'decrypt the artifacts; that one key only.';

/** Which artifact access a role has: `read` (consumers) or `read-write` (producers and the pipeline). */
export type ArtifactAccess = 'read' | 'read-write';

function policyOf(role: iam.IRole): IConstruct {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`Example pipeline: internal error, ${role.node.path} has no default policy.`);
  return policy;
}

/** The wildcards of a role's access to the artifact bucket and its key. */
export function acknowledgeArtifactAccess(
  role: iam.IRole,
  bucket: s3.IBucket,
  access: ArtifactAccess,
  { encrypts = true }: { encrypts?: boolean } = {},
): void {
  const policy = policyOf(role);
  const actions = ['s3:GetObject*', 's3:GetBucket*', 's3:List*'];
  if (access === 'read-write') actions.push('s3:DeleteObject*', 's3:Abort*');
  const ids = [
    ...actions.map((action) => `Action::${action}`),
    `Resource::${flattenForNag(Stack.of(role), `${bucket.bucketArn}/*`)}`,
  ];
  for (const id of ids)
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason: ARTIFACT_OBJECTS });
  if (!encrypts) return;
  for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: ARTIFACT_KEY });
  }
}

/** CodeBuild's own wildcards: the project's log group streams and its report groups. */
export function acknowledgeCodeBuildDefaults(project: codebuild.PipelineProject): void {
  const role = project.role;
  if (!role) throw new Error(`Example pipeline: internal error, ${project.node.path} has no role.`);
  const policy = policyOf(role);
  const stack = Stack.of(project);
  const name = flattenForNag(stack, project.projectName);
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${stack.region}:${stack.account}:log-group:/aws/codebuild/${name}:*]`,
    reason:
      "CodeBuild writes each build's log stream, named at run time, into this project's own log group " +
      '(/aws/codebuild/<project>) only.',
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:${stack.region}:${stack.account}:report-group/${name}-*]`,
    reason:
      "CodeBuild's default grant to create and write test report groups named after this project (<project>-*), " +
      'names chosen at run time; no other report group.',
  });
}
