/**
 * Which execution created a snapshot or a restored copy, by the `migration-execution` tag (`TagKeys.execution`)
 * the gateways put on everything they create. An existing snapshot or copy is adopted, and a snapshot is
 * restored, only when that tag names the very execution at hand: identifiers alone can collide (two execution
 * names that clean to the same identifier, a name reused after Step Functions' 90 days).
 */
import { TagKeys } from '../contract/contract.js';

type Tags = Readonly<Record<string, string>>;

/** The execution id (execution ARN) in the tags, or undefined when there is none. */
export function creatorOf(tags: Tags): string | undefined {
  const value = tags[TagKeys.execution];
  return value === undefined || value === '' ? undefined : value;
}

/** True when the tags say that execution `executionId` created the resource. */
export function createdBy(tags: Tags, executionId: string): boolean {
  return executionId !== '' && creatorOf(tags) === executionId;
}

/** Names the creator for a message: `execution <arn>`, or that the tag is missing. */
export function creatorPhrase(tags: Tags): string {
  const creator = creatorOf(tags);
  return creator === undefined
    ? `an unknown execution (it has no ${TagKeys.execution} tag)`
    : `execution ${creator}`;
}

/** `tags` with the execution tag set to `executionId` (it wins over a value already there). */
export function withCreatorTag(tags: Tags, executionId: string): Record<string, string> {
  return { ...tags, [TagKeys.execution]: executionId };
}
