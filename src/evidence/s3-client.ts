import { S3Client } from '@aws-sdk/client-s3';
import type { VigilConfig } from '../config';

export type S3ClientConfig = Omit<VigilConfig['s3'], 'bucket'> & Partial<Pick<VigilConfig['s3'], 'bucket'>>;

/**
 * Checksums only when an operation requires them: the SDK's default CRC32 trailers break
 * presigned URLs and some S3 servers. The evidence store sends SHA-256 explicitly instead.
 */
export function createS3Client(cfg: S3ClientConfig): S3Client {
  return new S3Client({
    endpoint: cfg.endpoint,
    region: cfg.region,
    credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey },
    forcePathStyle: cfg.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
