/**
 * The example release pipeline's app: the orchestrator stack of `lib/stack.ts` (from the context of cdk.json), in
 * an explicit environment, with the release pipeline that migrates with it (nothing is looked up: synthesis works
 * offline). cdk-nag's AwsSolutions checks run on every synthesis unless `nag` is false.
 */
import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MigrationOrchestratorStack, projectContext, stackPropsFromContext } from '../../lib/stack.js';
import { ReleasePipeline } from './pipeline-stack.js';

/** Example values: replace them with yours (or pass `-c connectionArn=... -c repository=owner/name`). */
export const EXAMPLE_ENV: Required<Environment> = { account: '123456789012', region: 'us-east-1' };
export const EXAMPLE_CONNECTION_ARN =
  'arn:aws:codeconnections:us-east-1:123456789012:connection/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const EXAMPLE_REPOSITORY = 'example-org/example-app';

export interface BuildPipelineAppOptions {
  /** Run cdk-nag's AwsSolutions checks at synthesis. @default true */
  readonly nag?: boolean;
  /** Bundle the orchestrator's functions (esbuild). @default false: bundling is skipped */
  readonly bundle?: boolean;
  /** Where to write the cloud assembly. @default - a temporary directory */
  readonly outdir?: string;
}

export function buildPipelineApp(options: BuildPipelineAppOptions = {}): {
  app: App;
  stack: MigrationOrchestratorStack;
  pipeline: ReleasePipeline;
} {
  const app = new App({
    context: { ...projectContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const env = {
    account: (app.node.tryGetContext('account') as string | undefined) ?? EXAMPLE_ENV.account,
    region: (app.node.tryGetContext('region') as string | undefined) ?? EXAMPLE_ENV.region,
  };
  const stack = new MigrationOrchestratorStack(app, 'ReleasePipeline', {
    ...stackPropsFromContext(app),
    env,
    description:
      'Release pipeline: build, migrate the database (migration orchestrator), deploy the application.',
  });
  const pipeline = new ReleasePipeline(stack, 'Release', {
    orchestrator: stack.orchestrator,
    connectionArn: (app.node.tryGetContext('connectionArn') as string | undefined) ?? EXAMPLE_CONNECTION_ARN,
    repository: (app.node.tryGetContext('repository') as string | undefined) ?? EXAMPLE_REPOSITORY,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, pipeline };
}
