/**
 * cdk-nag for the tests: the acknowledgements recorded in a construct tree, and a run of the AwsSolutions pack
 * that also says which findings each acknowledgement suppressed.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every cdk-nag acknowledgement recorded in the construct tree, with the path of the construct it is on. */
export function acknowledgements(root: IConstruct): Acknowledgement[] {
  const found: Acknowledgement[] = [];
  const visit = (node: IConstruct) => {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
        const id = qualified.replace(/^[A-Za-z]+::/, '');
        // Only cdk-nag's (annotation acknowledgements are CDK's own warnings).
        if (id.startsWith('AwsSolutions-')) found.push({ path: node.node.path, id, reason });
      }
    }
    for (const child of node.node.children) visit(child);
  };
  visit(root);
  return found;
}

/**
 * Runs the AwsSolutions pack over the tree and records which findings an acknowledgement suppressed (rule id
 * and the path of the resource), so that an acknowledgement that suppresses nothing is caught too.
 */
export function runNag(root: IConstruct): {
  violations: string[];
  suppressed: { id: string; path: string }[];
} {
  const pack = new AwsSolutionsChecks();
  const suppressed: { id: string; path: string }[] = [];
  const spied = pack as unknown as { isAcknowledged: (node: IConstruct, ruleId: string) => boolean };
  const original = spied.isAcknowledged.bind(pack);
  spied.isAcknowledged = (node, ruleId) => {
    const acknowledged = original(node, ruleId);
    if (acknowledged) suppressed.push({ id: ruleId, path: node.node.path });
    return acknowledged;
  };
  const report = pack.validateScope(root);
  const violations = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? '?'}`),
  );
  return { violations, suppressed };
}
