/** The report store on AWS: one object per execution in the report bucket, encrypted with the construct's key. */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ReportStore } from '../../contract/report-ports.js';

export interface S3ReportStoreOptions {
  readonly bucket: string;
  /** The KMS key (ARN) the object is encrypted with (SSE-KMS). */
  readonly keyArn: string;
  readonly client?: S3Client;
}

export class S3ReportStore implements ReportStore {
  private readonly client: S3Client;

  constructor(private readonly options: S3ReportStoreOptions) {
    this.client = options.client ?? new S3Client({});
  }

  async put(key: string, body: string): Promise<string> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: this.options.keyArn,
        BucketKeyEnabled: true,
      }),
    );
    return `s3://${this.options.bucket}/${key}`;
  }
}
