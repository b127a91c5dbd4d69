/**
 * Fault translation for the RDS gateways: an SDK error classified (throttling, 5xx, network, access denied)
 * and turned into one of our errors, whose message names the call, the resource and, for an access denial,
 * the missing permission.
 */
import { RestoreFailedError, TransientFaultError } from '../../contract/errors.js';

interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

const THROTTLING_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'PriorRequestNotComplete',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
]);

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'NetworkingError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function asSdkError(error: unknown): SdkErrorLike {
  return typeof error === 'object' && error !== null ? (error as SdkErrorLike) : {};
}

/** The error's name (`DBInstanceNotFoundFault`, `Throttling`, ...), or '' for a non-error. */
export function faultName(error: unknown): string {
  const name = asSdkError(error).name;
  return typeof name === 'string' ? name : '';
}

/** The error's message without the SDK's noise, for our own messages. */
export function faultMessage(error: unknown): string {
  const message = asSdkError(error).message;
  return typeof message === 'string' && message !== '' ? message : faultName(error) || String(error);
}

/** `<name>: <message>`, as our messages quote a fault. */
export function faultSummary(error: unknown): string {
  return `${faultName(error)}: ${faultMessage(error)}`;
}

export function isThrottling(error: unknown): boolean {
  return THROTTLING_NAMES.has(faultName(error));
}

/** Throttling, 5xx answers, timeouts and network errors: faults that go away when the call is retried. */
export function isTransientFault(error: unknown): boolean {
  const e = asSdkError(error);
  if (isThrottling(error) || TRANSIENT_NAMES.has(faultName(error))) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  return e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false;
}

export function isAccessDenied(error: unknown): boolean {
  const name = faultName(error);
  return name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation';
}

/** The TransientFaultError for a transient fault of `operation` on `resource` (the workflow retries it). */
export function transientFault(operation: string, resource: string, error: unknown): TransientFaultError {
  const kind = isThrottling(error) ? 'was throttled' : 'failed with a transient fault';
  return new TransientFaultError(
    `RDS ${operation} on ${resource} ${kind} (${faultName(error) || 'network'}: ${faultMessage(error)}). ` +
      'Nothing was changed by this call; the workflow retries it.',
    { cause: error, details: { operation, resource, fault: faultName(error) } },
  );
}

/** A sentence that tells which IAM permission is missing, when the fault is an access denial. */
export function accessHint(operation: string, error: unknown): string {
  return isAccessDenied(error)
    ? ` The function's role lacks rds:${operation}; grant it (the construct does this for the target it is given).`
    : '';
}

/** Where a read of the restore step happens, for the error it becomes. */
export interface RestoreRead {
  readonly operation: string;
  readonly resource: string;
  readonly details: Record<string, unknown>;
  /** The sentence that ends the message (what the failed read left untouched), or ''. */
  readonly untouched: string;
}

/**
 * Runs a read of the restore step: a transient fault becomes a TransientFaultError (retried by the
 * workflow), any other a RestoreFailedError that names the resource and ends with `at.untouched`.
 */
export async function readForRestore<T>(read: () => Promise<T>, at: RestoreRead): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (isTransientFault(error)) throw transientFault(at.operation, at.resource, error);
    throw new RestoreFailedError(
      `RDS ${at.operation} on ${at.resource} failed during the restore (${faultSummary(error)}).` +
        `${at.untouched ? ` ${at.untouched}` : ''}${accessHint(at.operation, error)}`,
      { cause: error, details: at.details },
    );
  }
}
