import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RouteControl } from '../activities/deps';
import type { RouteState } from '../domain';

/**
 * The live route table per model, kept as a small mutable control object beside the evidence
 * (the evidence of each change is written separately, create-only). The gateway reads it.
 */
export class S3RouteStore implements RouteControl {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  static key(modelName: string): string {
    return `control/routes/${modelName}.json`;
  }

  async apply(modelName: string, routes: RouteState): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: S3RouteStore.key(modelName),
        Body: JSON.stringify(routes),
        ContentType: 'application/json',
      }),
    );
  }

  async current(modelName: string): Promise<RouteState | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: S3RouteStore.key(modelName) }));
      return JSON.parse(await out.Body!.transformToString()) as RouteState;
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return null;
      throw e;
    }
  }
}
