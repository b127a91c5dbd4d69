/**
 * The workflow as a Mermaid flowchart, written from the synthesized definition itself (never by hand), so the
 * picture in the README cannot drift from what runs. `npm run diagram` rewrites the README's copy; a test fails
 * when it differs.
 */
import { StateNames } from '../lambdas/shared/contract/contract.js';
import type { AslChoiceRule, AslDefinition, AslState } from './asl.js';

/** The README lines between which the generated diagram stands. */
export const DIAGRAM_START = '<!-- workflow-diagram:start (npm run diagram writes this block) -->';
export const DIAGRAM_END = '<!-- workflow-diagram:end -->';

function quote(text: string): string {
  return `"${text.replaceAll('"', '#quot;')}"`;
}

function node(id: string, name: string, state: AslState): string {
  switch (state.Type) {
    case 'Choice':
      return `${id}{${quote(name)}}`;
    case 'Succeed':
      return `${id}([${quote(`Succeed: ${name}`)}])`;
    case 'Fail':
      return `${id}{{${quote(`Fail: ${name}`)}}}`;
    case 'Pass':
      return `${id}([${quote(name)}])`;
    case 'Wait':
      return `${id}[/${quote(name)}/]`;
    default:
      return `${id}[${quote(name)}]`;
  }
}

/** `$.plan.proceed == false` for a choice rule. */
function condition(rule: AslChoiceRule): string {
  const [operator, value] =
    Object.entries(rule).find(([key]) => key !== 'Variable' && key !== 'Next') ?? ([] as unknown[]);
  const variable = rule.Variable ?? '';
  if (operator === 'IsPresent') return `${variable} ${value ? 'is present' : 'is absent'}`;
  const symbol = String(operator).endsWith('Equals') ? '==' : String(operator);
  return `${variable} ${symbol} ${JSON.stringify(value)}`;
}

function errorsLabel(errors: readonly string[]): string {
  return errors.length === 1 && errors[0] === 'States.ALL' ? 'any error' : errors.join(', ');
}

/** The Mermaid text of the definition: states in the order they are reached from the start. */
export function mermaidOf(definition: AslDefinition): string {
  // Node ids are the contract's state keys (`applyMigrations`), readable in the README's source.
  const keys = new Map(Object.entries(StateNames).map(([key, name]) => [name as string, key]));
  const ids = new Map(
    Object.keys(definition.States).map((name, index) => [name, keys.get(name) ?? `s${index}`]),
  );
  const id = (name: string) => ids.get(name) ?? 'unknown';
  const order: string[] = [];
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (order.includes(name) || !definition.States[name]) continue;
    order.push(name);
    const state = definition.States[name];
    queue.push(
      ...[state.Next, ...(state.Choices ?? []).map((c) => c.Next), state.Default]
        .concat((state.Catch ?? []).map((c) => c.Next))
        .filter((next): next is string => typeof next === 'string'),
    );
  }
  const lines = ['flowchart TD'];
  for (const name of order) {
    const state = definition.States[name] as AslState;
    lines.push(`  ${node(id(name), name, state)}`);
    if (state.Next) lines.push(`  ${id(name)} --> ${id(state.Next)}`);
    for (const rule of state.Choices ?? [])
      lines.push(`  ${id(name)} -- ${quote(condition(rule))} --> ${id(rule.Next)}`);
    if (state.Default) lines.push(`  ${id(name)} -- "otherwise" --> ${id(state.Default)}`);
    for (const caught of state.Catch ?? [])
      lines.push(`  ${id(name)} -. ${quote(errorsLabel(caught.ErrorEquals))} .-> ${id(caught.Next)}`);
  }
  return lines.join('\n');
}

/** The README with its diagram block replaced by `diagram`. Throws when the markers are missing. */
export function withDiagram(readme: string, diagram: string): string {
  const start = readme.indexOf(DIAGRAM_START);
  const end = readme.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) {
    throw new Error(`README.md has no diagram block: add the lines ${DIAGRAM_START} and ${DIAGRAM_END}.`);
  }
  return `${readme.slice(0, start + DIAGRAM_START.length)}\n\`\`\`mermaid\n${diagram}\n\`\`\`\n${readme.slice(end)}`;
}
