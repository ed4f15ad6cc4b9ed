/**
 * Worker thread of `RowBatchEncoder`: HMACs the case ids of large row batches and encodes them as
 * prediction batch lines, off the request thread. Messages in: {id, batch: RowBatch}; out: {id, text, n}
 * or {id, error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CaseIdHasher } from './events';
import { encodeRowBatch, type RowBatch } from './row-batch';

const hasher = new CaseIdHasher((workerData as { caseIdKey: string }).caseIdKey);

parentPort!.on('message', (m: { id: number; batch: RowBatch }) => {
  try {
    parentPort!.postMessage({ id: m.id, text: encodeRowBatch(m.batch, hasher), n: m.batch.caseIds.length });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
