/** Inference gateway process: `node --import tsx src/gateway/main.ts` with VIGIL_GATEWAY_* set. */
import os from 'node:os';
import { loadConfig } from '../config';
import { EvidenceStore, createS3Client } from '../evidence';
import { createLogger } from '../logging/logger';
import { S3WatermarkStore, SegmentUploader, TelemetryReader, WriteAheadLog } from '../telemetry';
import { loadModelsFile } from './models-file';
import { RouteTables, pollRouteStore } from './route-table';
import { S3RouteStore } from './route-store';
import { Gateway } from './server';
import { ShadowMirror } from './shadow-mirror';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('vigil-gateway', config.logLevel);
  const g = config.gateway!;
  if (!g.modelsFile || !g.controlToken || !g.caseIdKey) {
    throw new Error('VIGIL_GATEWAY_MODELS, VIGIL_GATEWAY_CONTROL_TOKEN and VIGIL_GATEWAY_CASE_ID_KEY are required');
  }
  const models = await loadModelsFile(g.modelsFile);
  const loaded = new Map(models.map((m) => [m.name, new Set(m.versions.keys())]));

  const s3 = g.upload ? createS3Client(config.s3) : undefined;
  const evidence = s3 ? new EvidenceStore({ s3, bucket: config.s3.bucket, retention: config.retention }) : undefined;
  const routeStore = s3 ? new S3RouteStore(s3, config.s3.bucket) : undefined;
  const tables = new RouteTables((m) => loaded.get(m), routeStore ? { store: routeStore, log } : undefined);
  for (const m of models) {
    const stored = routeStore ? await routeStore.current(m.name) : null;
    if (!(stored && tables.adopt(m.name, stored)) && m.initialRoutes) tables.adopt(m.name, m.initialRoutes);
  }
  const stopPolling =
    routeStore && g.routePollMs > 0
      ? pollRouteStore(
          routeStore,
          tables,
          models.map((m) => m.name),
          g.routePollMs,
          log,
        )
      : () => {};

  const wal = await WriteAheadLog.open({ dir: g.walDir, segmentMaxAgeMs: g.segmentMaxAgeMs });
  const shadow = new ShadowMirror(g.shadowMaxInFlight, g.shadowTimeoutMs);
  const gateway = new Gateway({
    models,
    tables,
    caseIdKey: g.caseIdKey,
    controlToken: g.controlToken,
    ingestToken: g.ingestToken,
    wal,
    reader: s3 && evidence ? new TelemetryReader(s3, config.s3.bucket, evidence) : undefined,
    shadow,
    sketchBucketMs: g.sketchBucketMs,
    sketchAlpha: g.sketchAlpha,
    log,
  });
  const port = await gateway.listen(g.port, g.host);
  // The watermark tells workers measuring an interval when this gateway's telemetry of it is all in S3.
  const id = g.id ?? `${os.hostname()}:${port}`;
  const uploader =
    s3 && evidence
      ? new SegmentUploader(wal, evidence, log, 1000, {
          store: new S3WatermarkStore(s3, config.s3.bucket),
          gateway: id,
          // A mirror's prediction is appended up to its batch window + deadline after its stamp, an input sketch up to
          // the sketch timer's second after its bucket's end; one more second for a busy event loop.
          lagMs: Math.max(shadow.batchWindowMs + shadow.timeoutMs, 1000) + 1000,
          flush: () => gateway.flushPredictions(),
        })
      : undefined;
  uploader?.start();
  log.info(
    { id, host: g.host, port, models: models.map((m) => m.name), walDir: g.walDir, upload: g.upload },
    'gateway listening',
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'gateway stopping');
    stopPolling();
    await gateway.close();
    await wal.close();
    await uploader
      ?.finish()
      .catch((err: unknown) => log.warn({ err }, 'final telemetry upload failed; the WAL keeps it for the next start'));
    for (const m of models) for (const b of m.versions.values()) await b.close();
    s3?.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
