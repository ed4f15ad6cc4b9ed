/**
 * Worker thread of `PredictionRecorder`: HMACs the case ids of large row batches and encodes them as
 * prediction batch lines, off the request thread. Messages in: {id, batch: PackedRowBatch}; out: {id, text, n}
 * (text: the line's UTF-8 bytes, transferred) or {id, error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HmacSha256x4 } from './hmac-sha256-x4';
import { encodeRowBatch, type PackedRowBatch } from './row-batch';

const hmac = new HmacSha256x4((workerData as { caseIdKey: string }).caseIdKey);

parentPort!.on('message', (m: { id: number; batch: PackedRowBatch }) => {
  try {
    const line = encodeRowBatch(m.batch, hmac);
    // The line's memory is handed over, not copied.
    parentPort!.postMessage({ id: m.id, text: line, n: m.batch.idEnds.length }, [line.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
