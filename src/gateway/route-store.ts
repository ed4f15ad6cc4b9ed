import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RouteControl } from '../contracts/ports';
import type { RouteState } from '../domain';

/** The model's table as stored: a RouteState numbered per model, with the change that wrote it. */
export type StoredRoutes = RouteState & { revision?: string; hot?: string[] };

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

  /**
   * Without a revision the table is written as given. With one (the setRoutes activity), the model's table gets
   * the next version after the stored one — release-local versions restart at 1, the gateway only moves
   * forward — unless the stored table already is this revision (a retry). When production changes, the
   * previous production version stays loaded (`hot`), so a rollback finds it warm.
   * Read-then-write: one release per model moves traffic at a time (the queue and supersede rules see to it).
   */
  async apply(modelName: string, routes: RouteState, revision?: string): Promise<void> {
    if (revision === undefined) return this.put(modelName, routes);
    const cur = await this.current(modelName);
    if (cur?.revision === revision) return;
    const hot = cur && cur.production !== routes.production ? [cur.production] : cur?.hot;
    await this.put(modelName, {
      ...routes,
      version: (cur?.version ?? 0) + 1,
      revision,
      ...(hot?.length ? { hot } : {}),
    });
  }

  private async put(modelName: string, table: StoredRoutes): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: S3RouteStore.key(modelName),
        Body: JSON.stringify(table),
        ContentType: 'application/json',
      }),
    );
  }

  async current(modelName: string): Promise<StoredRoutes | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: S3RouteStore.key(modelName) }));
      return JSON.parse(await out.Body!.transformToString()) as StoredRoutes;
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey') return null;
      throw e;
    }
  }
}
