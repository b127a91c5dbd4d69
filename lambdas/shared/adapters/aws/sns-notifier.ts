/** The notifier on AWS: `Publish` to the notification topic, one message per subscription type. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../../contract/report-ports.js';
import type { NotificationMessage } from '../../domain/notification.js';

export class SnsNotifier implements Notifier {
  private readonly client: SNSClient;

  constructor(
    private readonly topicArn: string,
    options: { readonly client?: SNSClient } = {},
  ) {
    this.client = options.client ?? new SNSClient({});
  }

  async publish(message: NotificationMessage): Promise<void> {
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: message.subject,
        MessageStructure: 'json',
        Message: JSON.stringify({ default: message.default, email: message.email }),
      }),
    );
  }
}
