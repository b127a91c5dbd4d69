/**
 * The notifications: what a person reads when an execution ends (built from its report), and how a message the
 * workflow published itself (Step Functions' SNS integration) is read back from its resolved parameters, for the
 * report and the local runner's output.
 *
 * Each message goes out once per subscription type (SNS `MessageStructure: json`): e-mail gets plain text; every
 * other subscriber gets an AWS Chatbot (Amazon Q Developer in chat applications) custom notification, which is
 * what a Slack or Teams channel subscribed through Chatbot displays. Messages of one execution share its ARN as
 * Chatbot thread id.
 */
import type { ExecutionReport } from '../contract/report-schema.js';
import type { RecordedNotification } from './report.js';

/** What `Publish` sends: a subject (e-mail) and the message per subscription type. */
export interface NotificationMessage {
  /** At most 100 characters, one line (SNS's limit for e-mail subjects). */
  readonly subject: string;
  /** The message for e-mail subscriptions. */
  readonly email: string;
  /** The message for every other subscription: a Chatbot custom notification (JSON). */
  readonly default: string;
}

/** SNS's limit for an e-mail subject (fewer than 100 characters). */
const SUBJECT_MAX = 100;

function duration(ms: number | undefined): string {
  if (ms === undefined) return 'unknown';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** `Succeeded` / `Failed: MigrationRolledBack` / `Timed out`, as a subject says it. */
function outcomeWord(report: ExecutionReport): string {
  switch (report.execution.status) {
    case 'SUCCEEDED':
      return report.outcome.terminalState ?? 'Succeeded';
    case 'FAILED':
      return `Failed: ${report.outcome.error ?? 'unknown error'}`;
    case 'TIMED_OUT':
      return 'Timed out';
    case 'ABORTED':
      return 'Stopped';
    default:
      return 'Running';
  }
}

/** The message sent when an execution ends: database, release, mode, outcome, duration and the console link. */
export function statusChangeMessage(report: ExecutionReport, reportLocation?: string): NotificationMessage {
  const target = report.target ?? 'the database';
  // SNS takes printable ASCII on one line, under 100 characters.
  const subject = `${target}: ${outcomeWord(report)}`
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7E]/g, '?')
    .slice(0, SUBJECT_MAX - 1);
  const facts: [string, string | undefined][] = [
    ['Database', [report.target, report.database].filter(Boolean).join(' / ') || undefined],
    ['Release', report.release],
    ['Mode', report.mode],
    ['Outcome', report.outcome.summary],
    ['Duration', duration(report.execution.durationMs)],
    ['Execution', report.execution.name],
    ['Console', report.execution.consoleUrl],
    ['Report', reportLocation],
  ];
  const lines = facts.filter(([, value]) => value !== undefined).map(([key, value]) => `${key}: ${value}`);
  const chatbot = {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: `${report.outcome.succeeded ? ':white_check_mark:' : ':x:'} ${subject}`,
      description: lines.map((line) => `• ${line}`).join('\n'),
    },
    metadata: { threadId: report.execution.arn, summary: subject },
  };
  return { subject, email: lines.join('\n'), default: JSON.stringify(chatbot) };
}

/**
 * The message the workflow's SNS Publish task sent, from its resolved parameters (`Message`, `Subject`,
 * `MessageStructure`): the e-mail text when the message is per subscription type, else the message itself.
 * Undefined when the parameters hold no message.
 */
export function notificationOfParameters(
  state: string,
  parameters: unknown,
): RecordedNotification | undefined {
  if (parameters === null || typeof parameters !== 'object') return undefined;
  const { Message, Subject } = parameters as { Message?: unknown; Subject?: unknown };
  let message: unknown = Message;
  if (
    typeof Message === 'string' &&
    (parameters as { MessageStructure?: unknown }).MessageStructure === 'json'
  ) {
    try {
      message = JSON.parse(Message);
    } catch {
      message = Message;
    }
  }
  if (message !== null && typeof message === 'object') {
    const perType = message as { email?: unknown; default?: unknown };
    message = typeof perType.email === 'string' ? perType.email : perType.default;
  }
  if (typeof message !== 'string') return undefined;
  return { state, ...(typeof Subject === 'string' ? { subject: Subject } : {}), message };
}
