/**
 * Worker thread of `RowBatchEncoder`: HMACs the case ids of large row batches and encodes them as
 * prediction batch lines, off the request thread. Messages in: {id, batch: RowBatch}; out: {id, text, n}
 * or {id, error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PredictionEncoder } from './prediction-recorder';
import { expandRows, type RowBatch } from './row-batch';

const encoder = new PredictionEncoder((workerData as { caseIdKey: string }).caseIdKey);

parentPort!.on('message', (m: { id: number; batch: RowBatch }) => {
  try {
    const records = expandRows(m.batch);
    parentPort!.postMessage({ id: m.id, text: encoder.encode(records), n: records.length });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
