/**
 * The notification topic: the construct's own (encrypted with its key, SSL only) or the user's, with the e-mail
 * subscriptions of `notifications.emails`, and what a publisher needs: `sns:Publish` on the topic and, when the
 * topic is encrypted, the data key of its key used through SNS only.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

/** Who hears about executions (`MigrationOrchestratorProps.notifications`). */
export interface NotificationOptions {
  /** E-mail addresses subscribed to the topic (each confirms by e-mail). */
  readonly emails?: readonly string[];
  /** Your own topic instead of a new one. */
  readonly topic?: sns.ITopic;
}

/** Creates (or takes) the topic as `scope`'s child `NotificationTopic` and subscribes the e-mail addresses. */
export function notificationTopic(
  scope: Construct,
  options: NotificationOptions | undefined,
  encryptionKey: kms.IKey,
): sns.ITopic {
  const topic =
    options?.topic ??
    new sns.Topic(scope, 'NotificationTopic', {
      displayName: 'Prisma migration orchestrator',
      masterKey: encryptionKey,
      enforceSSL: true,
    });
  for (const email of options?.emails ?? [])
    topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

/** The statements a principal needs to publish to `topic` (and to use its key through SNS, when it has one). */
export function publishStatements(topic: sns.ITopic): iam.PolicyStatement[] {
  const statements = [
    new iam.PolicyStatement({
      sid: 'PublishToTheNotificationTopic',
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }),
  ];
  if (topic.masterKey) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'EncryptMessagesOfTheNotificationTopic',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [topic.masterKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(topic).region}.amazonaws.com` } },
      }),
    );
  }
  return statements;
}
