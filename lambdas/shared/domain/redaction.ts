/**
 * Table rows never leave a step: PostgreSQL quotes row values in its error details (`Key (email)=(ada@example.com)
 * already exists.`, `Failing row contains (...)`) and in a few messages (`invalid input syntax for type integer:
 * "abc"` during a backfill). Every message, detail and log that leaves a step goes through `redactRowValues`:
 * the shape of the error stays (which key, which constraint), the values are replaced with `***`.
 */

const REPLACEMENT = '***';

const PATTERNS: readonly [RegExp, string][] = [
  // Key (a, b)=(1, x) already exists. | is duplicated. | is not present in table "t". | is still referenced ...
  [
    /(Key \([^)]*\)=\()[\s\S]*?(\) (?:already exists|is duplicated|is not present|is still referenced|conflicts with))/g,
    `$1${REPLACEMENT}$2`,
  ],
  // Any other `Key (...)=(...)` up to the end of the sentence.
  [/(Key \([^)]*\)=\()[^\n]*?(\)\.?)(?=\s|$)/g, `$1${REPLACEMENT}$2`],
  // Failing row contains (...).
  [/(Failing row contains \()[\s\S]*?(\)\.?)(?=\s|$|"|\\)/g, `$1${REPLACEMENT}$2`],
  // invalid input syntax for type X: "value" | invalid input value for enum X: "value"
  [/(invalid input (?:syntax for type|value for enum) [^:]+: )"(?:[^"\\]|\\.)*"/g, `$1"${REPLACEMENT}"`],
  // value "..." is out of range for type X
  [/(value )"(?:[^"\\]|\\.)*"( is out of range)/g, `$1"${REPLACEMENT}"$2`],
];

/** `text` with every row value PostgreSQL quoted in it replaced by `***`. */
export function redactRowValues(text: string): string {
  let result = text;
  for (const [pattern, replacement] of PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

/** A JSON-compatible value with every string redacted (error details, reports). */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redactRowValues(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, redactDeep(item)]),
    ) as T;
  }
  return value;
}

/**
 * Redacts an error's message, its stack trace and its `details` in place, where it leaves a step. Returns it. The
 * stack matters: its first line is the message as it was when the stack was first read, and Lambda's error report
 * (the execution history's cause) and X-Ray both carry the stack.
 */
export function redactError<E>(error: E): E {
  if (error instanceof Error) {
    error.message = redactRowValues(error.message);
    if (typeof error.stack === 'string') error.stack = redactRowValues(error.stack);
    const withDetails = error as Error & { details?: unknown };
    if (withDetails.details !== undefined) {
      try {
        Object.assign(withDetails, { details: redactDeep(withDetails.details) });
      } catch {
        // A read-only details property: the message is what leaves the step.
      }
    }
  }
  return error;
}
