/**
 * RDS tag lists, and the tags the gateways put on a restored copy so that a retried call recognises its own
 * work (which execution created something is `../../execution-tag.ts`, shared with the local gateway).
 */
import type { Tag } from '@aws-sdk/client-rds';
import { DEFAULT_MANAGED_BY } from '../../runtime/settings.js';

type Tags = Readonly<Record<string, string>>;

export function toRdsTags(tags: Tags): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function fromRdsTags(tags: readonly Tag[] | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { Key, Value } of tags ?? []) {
    if (Key !== undefined) record[Key] = Value ?? '';
  }
  return record;
}

/** Keys of the tags the gateways put on a restored copy, so that a retried call recognises its own work. */
export interface RestoreTagKeys {
  /** The temporary identifier it was restored under: unique per execution, survives the renames. */
  readonly restoreId: string;
  /** The identifier of the original whose settings it carries. */
  readonly restoreOf: string;
  /** The snapshot it was restored from. */
  readonly restoredFrom: string;
  /** How many times the post-restore settings were requested (see `MAX_POST_RESTORE_ATTEMPTS`). */
  readonly postRestore: string;
}

/** The internal tags of restored copies, under the `<managedBy>:` prefix. */
export class RestoreTags {
  readonly keys: RestoreTagKeys;

  constructor(readonly managedBy: string = DEFAULT_MANAGED_BY) {
    this.keys = {
      restoreId: `${managedBy}:restore-id`,
      restoreOf: `${managedBy}:restore-of`,
      restoredFrom: `${managedBy}:restored-from`,
      postRestore: `${managedBy}:post-restore-settings`,
    };
  }

  /**
   * The tags of a restored copy: the original's own tags (without the reserved `aws:` keys, which RDS refuses
   * to set, and without this workflow's internal keys from an earlier rollback), then the workflow's tags,
   * then the internal ones. A later key wins.
   */
  forCopy(original: readonly Tag[] | undefined, ours: Tags, internal: Tags): Tag[] {
    const merged = new Map<string, string>();
    for (const { Key, Value } of original ?? []) {
      if (Key === undefined || Key.startsWith('aws:') || Key.startsWith(`${this.managedBy}:`)) continue;
      merged.set(Key, Value ?? '');
    }
    for (const [key, value] of Object.entries(ours)) merged.set(key, value);
    for (const [key, value] of Object.entries(internal)) merged.set(key, value);
    return [...merged].map(([Key, Value]) => ({ Key, Value }));
  }

  /** The workflow's own tags on a restored copy: what it has that the original has not (no internal keys). */
  oursOn(restored: readonly Tag[] | undefined, original: readonly Tag[] | undefined): Record<string, string> {
    const originalTags = fromRdsTags(original);
    return Object.fromEntries(
      Object.entries(fromRdsTags(restored)).filter(
        ([key, value]) => !key.startsWith(`${this.managedBy}:`) && originalTags[key] !== value,
      ),
    );
  }

  /** True when the tags are those of the copy restored under `restoredIdentifier`. */
  isCopy(tags: readonly Tag[] | undefined, restoredIdentifier: string): boolean {
    return fromRdsTags(tags)[this.keys.restoreId] === restoredIdentifier;
  }

  /** The original a restored copy carries the settings of, and how often they were requested already. */
  origin(tags: readonly Tag[] | undefined): { originalId: string | undefined; attempts: number } {
    const record = fromRdsTags(tags);
    return {
      originalId: record[this.keys.restoreOf],
      attempts: Number(record[this.keys.postRestore] ?? '0'),
    };
  }
}
