/**
 * Migrating from a pipeline: `MigrateAction`, a CodePipeline Step Functions invoke action that starts the
 * orchestrator's state machine and waits for its end, and `MigrateStep`, the same action for CDK Pipelines
 * (`pipelines.CodePipeline`). Put either between the build and the deployment of the application: a failed,
 * refused or rolled-back execution fails the action (and so the stage), a release with nothing pending succeeds.
 *
 * What CodePipeline does with the action (action-reference-StepFunctions in the CodePipeline user guide):
 * StartExecution named `<executionNamePrefix>-<action execution id>`, then DescribeExecution until the
 * execution ends; SUCCEEDED succeeds the action, FAILED, TIMED_OUT and ABORTED fail it. A retried action is a new
 * action execution, so it starts a new execution: the workflow's preflight is what keeps a retry safe (it refuses
 * while another execution runs against the database, and plans nothing for migrations already applied).
 */
import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { parseWorkflowInput } from '../lambdas/shared/contract/input.js';
import { flattenForNag, type MigrationOrchestrator } from './orchestrator.js';

/** The CodePipeline variable of the pipeline execution: one value per run, the same for every retry of it. */
export const PIPELINE_EXECUTION_ID = '#{codepipeline.PipelineExecutionId}';

/** The default input: a migration labelled with the pipeline execution (tagged on its snapshot). */
export const DEFAULT_PIPELINE_INPUT = { release: PIPELINE_EXECUTION_ID } as const;

/** The default `executionNamePrefix`: executions read `pipeline-<action execution id>`. */
export const DEFAULT_EXECUTION_NAME_PREFIX = 'pipeline';

/** Step Functions names are at most 80 characters; CodePipeline appends `-` and a 36-character id. */
export const MAX_EXECUTION_NAME_PREFIX_LENGTH = 80 - 1 - 36;

/** A value of CodePipeline's variable syntax, `#{namespace.name}`. */
const PIPELINE_VARIABLE = /#\{[^}]*\}/g;
/** What a variable is replaced with when a literal input is checked at synthesis: a pipeline execution id. */
const VARIABLE_SAMPLE = '00000000-0000-4000-8000-000000000000';

type InputSource =
  | { readonly kind: 'literal'; readonly value: Readonly<Record<string, unknown>> }
  | { readonly kind: 'artifact'; readonly path: codepipeline.ArtifactPath }
  | { readonly kind: 'file-set'; readonly producer: pipelines.IFileSetProducer; readonly fileName: string };

/**
 * Where the execution input comes from: a literal object (CodePipeline variables such as
 * `#{codepipeline.PipelineExecutionId}` are resolved in it before the action starts), or a JSON file of a
 * build's output (written by the build, e.g. with the release bundle it packed).
 */
export class MigrationInput {
  /**
   * The input as written, checked at synthesis against the execution input of the README (fields and values;
   * a CodePipeline variable stands for a pipeline execution id while it is checked).
   */
  static literal(input: Readonly<Record<string, unknown>>): MigrationInput {
    return new MigrationInput({ kind: 'literal', value: input });
  }

  /** A JSON file of a CodePipeline artifact, e.g. `buildOutput.atPath('migrate-input.json')` (`MigrateAction`). */
  static fromArtifact(path: codepipeline.ArtifactPath): MigrationInput {
    return new MigrationInput({ kind: 'artifact', path });
  }

  /** A JSON file of a CDK Pipelines file set, e.g. the primary output of a `ShellStep` (`MigrateStep`). */
  static fromFileSet(producer: pipelines.IFileSetProducer, fileName: string): MigrationInput {
    return new MigrationInput({ kind: 'file-set', producer, fileName });
  }

  private constructor(readonly source: InputSource) {}
}

export interface MigrateActionProps {
  /** The orchestrator whose state machine the action starts. */
  readonly orchestrator: MigrationOrchestrator;
  /**
   * The execution input.
   *
   * @default - `MigrationInput.literal({ release: '#{codepipeline.PipelineExecutionId}' })`: the pending
   * migrations bundled with the functions, labelled with the pipeline execution
   */
  readonly input?: MigrationInput;
  /**
   * The action's name in its stage.
   *
   * @default 'Migrate'
   */
  readonly actionName?: string;
  /**
   * Prepended, with a hyphen, to the action execution id to name the execution (at most 43 characters: letters,
   * digits, `-` and `_`). Also the scope of the action's `states:DescribeExecution` permission.
   *
   * @default 'pipeline'
   */
  readonly executionNamePrefix?: string;
  /**
   * The action's order in its stage.
   *
   * @default 1
   */
  readonly runOrder?: number;
  /**
   * The namespace of the action's output variables (`StateMachineArn`, `ExecutionArn`).
   *
   * @default - none: the variables cannot be referenced
   */
  readonly variablesNamespace?: string;
  /**
   * The role the action runs as.
   *
   * @default - a new role, assumed by the pipeline's role
   */
  readonly role?: iam.IRole;
}

/**
 * A CodePipeline action that releases the pending migrations: it starts an execution of the orchestrator's state
 * machine and succeeds or fails with it. Its role may start this state machine, describe it and the executions it
 * names, and use the orchestrator's key for this state machine's data only (its executions are encrypted with it).
 */
export class MigrateAction extends actions.StepFunctionInvokeAction {
  private readonly orchestrator: MigrationOrchestrator;
  private readonly executionNamePrefix: string;
  private readonly readsArtifact: boolean;

  constructor(props: MigrateActionProps) {
    const prefix = checkExecutionNamePrefix(props.executionNamePrefix ?? DEFAULT_EXECUTION_NAME_PREFIX);
    super({
      actionName: props.actionName ?? 'Migrate',
      stateMachine: props.orchestrator.stateMachine,
      stateMachineInput: toStateMachineInput(props.input ?? MigrationInput.literal(DEFAULT_PIPELINE_INPUT)),
      executionNamePrefix: prefix,
      ...(props.runOrder !== undefined ? { runOrder: props.runOrder } : {}),
      ...(props.variablesNamespace !== undefined ? { variablesNamespace: props.variablesNamespace } : {}),
      ...(props.role !== undefined ? { role: props.role } : {}),
    });
    this.orchestrator = props.orchestrator;
    this.executionNamePrefix = prefix;
    this.readsArtifact = props.input?.source.kind === 'artifact';
  }

  protected override bound(
    scope: Construct,
    stage: codepipeline.IStage,
    options: codepipeline.ActionBindOptions,
  ): codepipeline.ActionConfig {
    // StartExecution, DescribeStateMachine and DescribeExecution (on this prefix's executions), and read access
    // to the input artifact: granted by StepFunctionInvokeAction.
    const config = super.bound(scope, stage, options);
    // The state machine's data is encrypted with the orchestrator's customer managed key: Step Functions encrypts
    // the input with the starter's access to it, and decrypts the output for DescribeExecution. Only for this
    // state machine (the key's encryption context).
    options.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptTheDataOfThisWorkflow',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.orchestrator.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:EncryptionContext:aws:states:stateMachineArn':
              this.orchestrator.stateMachine.stateMachineArn,
          },
        },
      }),
    );
    this.acknowledgeWildcards(options);
    return config;
  }

  /**
   * cdk-nag AwsSolutions-IAM5 acknowledgements of the wildcards StepFunctionInvokeAction grants, on the policy of
   * the role it creates (a role you pass is yours to review). The DescribeExecution wildcard is acknowledged when
   * the pipeline is in the orchestrator's stack; from another stack, acknowledge it where you define the pipeline.
   */
  private acknowledgeWildcards(options: codepipeline.ActionBindOptions): void {
    const policy = options.role.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const stack = Stack.of(options.role);
    const stateMachine = this.orchestrator.stateMachine;
    // The same ARN as StepFunctionInvokeAction's DescribeExecution statement.
    const machineStack = Stack.of(stateMachine);
    const { account, region, partition, resourceName } = machineStack.splitArn(
      stateMachine.stateMachineArn,
      ArnFormat.COLON_RESOURCE_NAME,
    );
    const executions = machineStack.formatArn({
      account,
      region,
      partition,
      service: 'states',
      resource: 'execution',
      resourceName: `${resourceName}:${this.executionNamePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Across stacks the statement names an import of the ARN, which cdk-nag spells differently before and after
    // synthesis: acknowledge that one where the pipeline is defined.
    if (machineStack === stack) {
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${flattenForNag(stack, executions)}]`,
        reason:
          `states:DescribeExecution on this state machine's executions named ${this.executionNamePrefix}-<action ` +
          'execution id>: CodePipeline names each execution at run time and polls it until it ends.',
      });
    }
    if (!this.readsArtifact) return;
    const artifacts =
      "Read access (CDK's s3:GetObject*/GetBucket*/List* groups) to the pipeline's own artifact bucket, whose " +
      'object keys CodePipeline chooses per execution: the action reads the execution input file of the build.';
    for (const id of [
      'Action::s3:GetObject*',
      'Action::s3:GetBucket*',
      'Action::s3:List*',
      `Resource::${flattenForNag(stack, `${options.bucket.bucketArn}/*`)}`,
    ]) {
      Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason: artifacts });
    }
  }
}

/** What `MigrateStep` takes: the action's props, less what CDK Pipelines decides (name, order, namespace). */
export type MigrateStepProps = Omit<MigrateActionProps, 'actionName' | 'runOrder' | 'variablesNamespace'>;

/**
 * The migration for CDK Pipelines: a step that produces `MigrateAction`. Add it before the deployment of the
 * application, e.g. `pipeline.addStage(appStage, { pre: [new MigrateStep('Migrate', { orchestrator })] })`. The
 * step id is the action's name. With `MigrationInput.fromFileSet`, the step runs after the step producing the file.
 */
export class MigrateStep extends pipelines.Step implements pipelines.ICodePipelineActionFactory {
  private readonly props: MigrateStepProps;
  private readonly inputFile?: { readonly fileSet: pipelines.FileSet; readonly fileName: string };

  constructor(id: string, props: MigrateStepProps) {
    super(id);
    const source = props.input?.source;
    if (source?.kind === 'artifact') {
      throw new Error(
        `MigrateStep ${id}: input is MigrationInput.fromArtifact(...), a CodePipeline artifact, which CDK ` +
          'Pipelines does not know. Use MigrationInput.fromFileSet(step, "migrate-input.json") with the step that ' +
          'writes the file (e.g. a ShellStep), or MigrationInput.literal({...}).',
      );
    }
    if (source?.kind === 'file-set') {
      const fileSet = source.producer.primaryOutput;
      if (!fileSet) {
        throw new Error(
          `MigrateStep ${id}: MigrationInput.fromFileSet(${String(source.producer)}, "${source.fileName}") names a ` +
            'step without an output. Give that step a primaryOutputDirectory (ShellStep) holding the file.',
        );
      }
      this.addDependencyFileSet(fileSet);
      this.inputFile = { fileSet, fileName: source.fileName };
    }
    // Checked here too, so that a bad prefix fails where the step is written rather than when the pipeline builds.
    checkExecutionNamePrefix(props.executionNamePrefix ?? DEFAULT_EXECUTION_NAME_PREFIX);
    this.props = props;
  }

  produceAction(
    stage: codepipeline.IStage,
    options: pipelines.ProduceActionOptions,
  ): pipelines.CodePipelineActionFactoryResult {
    const input = this.inputFile
      ? MigrationInput.fromArtifact(
          options.artifacts.toCodePipeline(this.inputFile.fileSet).atPath(this.inputFile.fileName),
        )
      : this.props.input;
    stage.addAction(
      new MigrateAction({
        ...this.props,
        ...(input ? { input } : {}),
        actionName: options.actionName,
        runOrder: options.runOrder,
        ...(options.variablesNamespace !== undefined
          ? { variablesNamespace: options.variablesNamespace }
          : {}),
      }),
    );
    return { runOrdersConsumed: 1 };
  }
}

function toStateMachineInput(input: MigrationInput): actions.StateMachineInput {
  const source = input.source;
  switch (source.kind) {
    case 'literal':
      checkLiteralInput(source.value);
      return actions.StateMachineInput.literal(source.value);
    case 'artifact':
      // The file's path inside the artifact, as CodePipeline documents Input for InputType FilePath
      // ("assets/input.json"); StateMachineInput.filePath would write the artifact-qualified location
      // ("Release::migrate-input.json"), CloudFormation actions' syntax.
      return { input: source.path.fileName, inputArtifact: source.path.artifact, inputType: 'FilePath' };
    case 'file-set':
      throw new Error(
        `MigrateAction: input is MigrationInput.fromFileSet(${String(source.producer)}, "${source.fileName}"), a ` +
          'CDK Pipelines file set, which a CodePipeline action cannot read. Use MigrateStep in a ' +
          'pipelines.CodePipeline, or MigrationInput.fromArtifact(artifact.atPath("...")) with codepipeline.Pipeline.',
      );
  }
}

/** The literal input against the execution input's schema, CodePipeline variables standing for an execution id. */
function checkLiteralInput(value: Readonly<Record<string, unknown>>): void {
  const sample = JSON.parse(JSON.stringify(value).replace(PIPELINE_VARIABLE, VARIABLE_SAMPLE)) as unknown;
  try {
    parseWorkflowInput(sample);
  } catch (error) {
    throw new Error(
      `MigrateAction: the literal input ${JSON.stringify(value)} is not a valid execution input: ` +
        `${(error as Error).message}`,
      { cause: error },
    );
  }
}

function checkExecutionNamePrefix(prefix: string): string {
  if (Token.isUnresolved(prefix)) return prefix;
  if (
    prefix.length === 0 ||
    prefix.length > MAX_EXECUTION_NAME_PREFIX_LENGTH ||
    !/^[A-Za-z0-9_-]+$/.test(prefix)
  ) {
    throw new Error(
      `MigrateAction: executionNamePrefix must be 1 to ${MAX_EXECUTION_NAME_PREFIX_LENGTH} letters, digits, "-" or ` +
        `"_" (CodePipeline appends "-" and the 36-character action execution id; Step Functions allows 80), ` +
        `received ${JSON.stringify(prefix)}. A CodePipeline variable cannot be used: the action's ` +
        'states:DescribeExecution permission is scoped to the prefix. Use e.g. "pipeline" or "release".',
    );
  }
  return prefix;
}
