/** A wrong command line: the message, then the usage. Exit 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}
