/**
 * The example release pipeline's app: the release bundle bucket (`bundles-stack.ts`), the orchestrator stack of
 * `lib/stack.ts` (from the context of cdk.json) reading its release bundles from it, in an explicit environment,
 * with the release pipeline that migrates with it (nothing is looked up: synthesis works
 * offline). cdk-nag's AwsSolutions checks run on every synthesis unless `nag` is false.
 */
import { App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MigrationOrchestratorStack, projectContext, stackPropsFromContext } from '../../lib/stack.js';
import { BUNDLE_PREFIX, ReleaseBundlesStack } from './bundles-stack.js';
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
  bundles: ReleaseBundlesStack;
} {
  const app = new App({
    context: { ...projectContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const env = {
    account: (app.node.tryGetContext('account') as string | undefined) ?? EXAMPLE_ENV.account,
    region: (app.node.tryGetContext('region') as string | undefined) ?? EXAMPLE_ENV.region,
  };
  // The bundle bucket first: the orchestrator reads the release bundles the build uploads there.
  const bundles = new ReleaseBundlesStack(app, 'ReleaseBundles', {
    env,
    description: 'Release pipeline: the release bundles the build packs and the migration runs.',
  });
  const context = stackPropsFromContext(app);
  const stack = new MigrationOrchestratorStack(app, 'ReleasePipeline', {
    ...context,
    orchestrator: {
      ...context.orchestrator,
      releaseBundles: { bucket: bundles.byArn, prefix: BUNDLE_PREFIX },
    },
    env,
    description:
      'Release pipeline: build, migrate the database (migration orchestrator), deploy the application.',
  });
  stack.addDependency(bundles, 'the orchestrator reads, and the pipeline writes, the release bundles');
  const pipeline = new ReleasePipeline(stack, 'Release', {
    orchestrator: stack.orchestrator,
    bundleBucket: bundles.byArn,
    connectionArn: (app.node.tryGetContext('connectionArn') as string | undefined) ?? EXAMPLE_CONNECTION_ARN,
    repository: (app.node.tryGetContext('repository') as string | undefined) ?? EXAMPLE_REPOSITORY,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, pipeline, bundles };
}
