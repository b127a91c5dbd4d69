/**
 * Turns a synthesized template's state machine `DefinitionString` (an `Fn::Join` of strings and
 * `Ref`/`Fn::GetAtt` tokens) into plain Amazon States Language. The tests and the local runner both use it:
 * the local runner executes exactly what CloudFormation would deploy.
 */

/** Plain ASL as parsed from the template (JSONPath; the shape is checked by the tests with asl-validator). */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly Comment?: string;
  readonly QueryLanguage?: string;
}

export interface AslRetrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly JitterStrategy?: string;
}

export interface AslCatcher {
  readonly ErrorEquals: string[];
  readonly Next: string;
  readonly ResultPath?: string;
}

export interface AslChoiceRule {
  readonly Variable?: string;
  readonly Next: string;
  readonly [operator: string]: unknown;
}

export interface AslState {
  readonly Type: 'Pass' | 'Task' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map';
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly ResultPath?: string | null;
  readonly Parameters?: Record<string, unknown>;
  readonly TimeoutSeconds?: number;
  readonly Retry?: AslRetrier[];
  readonly Catch?: AslCatcher[];
  readonly Choices?: AslChoiceRule[];
  readonly Default?: string;
  readonly SecondsPath?: string;
  readonly Error?: string;
  readonly CausePath?: string;
  readonly Comment?: string;
  readonly QueryLanguage?: string;
  readonly [field: string]: unknown;
}

export interface DefinitionFromTemplateOptions {
  /**
   * The state machine's logical id, when the template holds more than one.
   *
   * @default - the workflow: the only state machine not marked as an entry (`ENTRY_METADATA_KEY`)
   */
  readonly stateMachineLogicalId?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
}

export interface TemplateDefinition {
  readonly definition: AslDefinition;
  readonly stateMachineLogicalId: string;
  /** The substituted Lambda ARN of each `Fn::GetAtt [id, Arn]` -> the function's logical id. */
  readonly resourceToLogicalId: Map<string, string>;
  /** The substituted Lambda ARN -> the step of that function (its `orchestrator:step` Metadata). */
  readonly resourceToStep: Map<string, string>;
}

/** The Metadata key naming the workflow step of each function (the local runner maps ARNs to steps with it). */
export const STEP_METADATA_KEY = 'orchestrator:step';

/**
 * The Metadata key marking a state machine that only starts the workflow (the migrate entry, value `migrate`):
 * `definitionFromTemplate` passes over it unless its logical id is asked for.
 */
export const ENTRY_METADATA_KEY = 'orchestrator:entry';

interface TemplateResource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

function resourcesOf(template: Record<string, unknown>): Record<string, TemplateResource> {
  const resources = template.Resources;
  if (!resources || typeof resources !== 'object') {
    throw new Error(
      'definitionFromTemplate: the template has no Resources section. Pass a synthesized template.',
    );
  }
  return resources as Record<string, TemplateResource>;
}

/**
 * The plain ASL of the template's state machine. `{ "Fn::GetAtt": [id, "Arn"] }` becomes
 * `arn:aws:lambda:<region>:<account>:function:<id>`; pseudo parameters become plausible values; other
 * `Ref`s become `arn:aws:cloudformation:<region>:<account>:ref/<id>`.
 */
export function definitionFromTemplate(
  template: Record<string, unknown>,
  options: DefinitionFromTemplateOptions = {},
): TemplateDefinition {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const resources = resourcesOf(template);
  const machines = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const selected = options.stateMachineLogicalId
    ? machines.filter(([id]) => id === options.stateMachineLogicalId)
    : machines.filter(([, r]) => r.Metadata?.[ENTRY_METADATA_KEY] === undefined);
  if (selected.length !== 1) {
    throw new Error(
      `definitionFromTemplate: expected exactly one AWS::StepFunctions::StateMachine${
        options.stateMachineLogicalId ? ` with logical id ${options.stateMachineLogicalId}` : ''
      }, found ${selected.length} (${machines.map(([id]) => id).join(', ') || 'none'}). ` +
        'Pass stateMachineLogicalId to pick one.',
    );
  }
  const [stateMachineLogicalId, machine] = selected[0] as [string, TemplateResource];

  const resourceToLogicalId = new Map<string, string>();
  const resourceToStep = new Map<string, string>();
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': region,
    'AWS::AccountId': account,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': 'MigrationOrchestrator',
  };

  const substitute = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part && typeof part === 'object') {
      const token = part as Record<string, unknown>;
      if ('Ref' in token && typeof token.Ref === 'string') {
        return pseudo[token.Ref] ?? `arn:aws:cloudformation:${region}:${account}:ref/${token.Ref}`;
      }
      const getAtt = token['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
        const [id, attribute] = getAtt as [string, string];
        if (attribute === 'Arn') {
          const arn = `arn:aws:lambda:${region}:${account}:function:${id}`;
          resourceToLogicalId.set(arn, id);
          const step = resources[id]?.Metadata?.[STEP_METADATA_KEY];
          if (typeof step === 'string') resourceToStep.set(arn, step);
          return arn;
        }
        return `${id}.${attribute}`;
      }
    }
    throw new Error(
      `definitionFromTemplate: unsupported token ${JSON.stringify(part)} in the DefinitionString of ` +
        `${stateMachineLogicalId}. Only strings, Ref and Fn::GetAtt are substituted.`,
    );
  };

  const raw = machine.Properties?.DefinitionString;
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else if (raw && typeof raw === 'object' && Array.isArray((raw as Record<string, unknown>)['Fn::Join'])) {
    const [separator, parts] = (raw as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    text = parts.map(substitute).join(separator);
  } else {
    throw new Error(
      `definitionFromTemplate: ${stateMachineLogicalId} has no DefinitionString (got ${JSON.stringify(raw)}). ` +
        'Synthesize the state machine with DefinitionBody.fromChainable.',
    );
  }
  const definition = JSON.parse(text) as AslDefinition;
  return { definition, stateMachineLogicalId, resourceToLogicalId, resourceToStep };
}
