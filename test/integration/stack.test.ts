import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { EvidenceStore, createS3Client } from '../../src/evidence';
import { createLogger } from '../../src/logging/logger';
import {
  VIGIL_SEARCH_ATTRIBUTES,
  defaultBinDir,
  ensureEvidenceBucket,
  freePort,
  startSeaweed,
  startTemporal,
} from '../../src/stack';

const log = createLogger('stack-test', 'warn');
const binDir = defaultBinDir();
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-stack-test-'));

describe('local stack', () => {
  after(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it('Temporal keeps the Vigil search attributes and its data across a restart', async () => {
    const port = await freePort();
    const opts = { binDir, stateDir: path.join(stateDir, 'temporal'), port, headless: true, log };
    const workflowId = `marker-${process.pid}`;
    const stage = defineSearchAttributeKey('VigilStage', SearchAttributeType.KEYWORD);

    let server = await startTemporal(opts);
    try {
      const connection = await Connection.connect({ address: server.address });
      try {
        const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        for (const name of VIGIL_SEARCH_ATTRIBUTES) {
          assert.ok(name in (res.customAttributes ?? {}), `${name} registered`);
        }
        // No worker needed: the execution just sits RUNNING, which is the marker we look for later.
        await new Client({ connection }).workflow.start('marker', {
          taskQueue: 'stack-test',
          workflowId,
          typedSearchAttributes: [{ key: stage, value: 'SNAPSHOT' }],
        });
      } finally {
        await connection.close();
      }
    } finally {
      await server.stop();
    }

    // Same state dir, same --search-attribute flags again: must start and still have the marker.
    server = await startTemporal(opts);
    try {
      const connection = await Connection.connect({ address: server.address });
      try {
        const handle = new Client({ connection }).workflow.getHandle(workflowId);
        const desc = await handle.describe();
        assert.equal(desc.status.name, 'RUNNING');
        assert.equal(desc.typedSearchAttributes.get(stage), 'SNAPSHOT');
        await handle.terminate('test done');
      } finally {
        await connection.close();
      }
    } finally {
      await server.stop();
    }
  });

  it('SeaweedFS keeps locked evidence across a restart', async () => {
    const s3Port = await freePort();
    const app = { accessKeyId: 'vigil', secretAccessKey: 'vigil-test-secret' };
    const opts = { binDir, stateDir: path.join(stateDir, 's3'), s3Port, app, log };
    const s3Config = { endpoint: `http://127.0.0.1:${s3Port}`, region: 'us-east-1', forcePathStyle: true };
    const bucket = 'vigil-restart-test';

    let server = await startSeaweed(opts);
    const adminS3 = createS3Client({ ...s3Config, ...server.admin });
    const appS3 = createS3Client({ ...s3Config, ...app });
    const store = new EvidenceStore({ s3: appS3, bucket, retention: { mode: 'COMPLIANCE', days: 1 } });
    try {
      await ensureEvidenceBucket(adminS3, bucket);
      const ref = await store.putJson({ marker: 'restart' });
      await server.stop();

      server = await startSeaweed(opts);
      await ensureEvidenceBucket(adminS3, bucket); // same admin identity, bucket still locked
      assert.deepEqual(await store.getJson(ref.key), { marker: 'restart' });
      assert.deepEqual(await store.putJson({ marker: 'restart' }), ref);
    } finally {
      adminS3.destroy();
      appS3.destroy();
      await server.stop();
    }
  });
});
