/**
 * The prediction encoder thread (started by PredictionRecorder): hashes case ids and writes WAL lines for
 * each batch the gateway posts, and posts the UTF-8 bytes back (transferred, not copied). Nothing here
 * touches files: the WAL stays with the gateway's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PredictionEncoder, type PredictionBatch } from './prediction-batch';

export interface EncodeRequest {
  seq: number;
  batch: PredictionBatch;
}
export type EncodeReply = { seq: number; events: number; bytes: Uint8Array } | { seq: number; events: number; error: string };

const port = parentPort;
if (!port) throw new Error('prediction-encoder.worker runs as a worker thread');
const encoder = new PredictionEncoder((workerData as { caseIdKey: string }).caseIdKey);
const utf8 = new TextEncoder();

port.on('message', ({ seq, batch }: EncodeRequest) => {
  let reply: EncodeReply;
  try {
    const bytes = utf8.encode(encoder.encodeBatch(batch));
    reply = { seq, events: batch.n, bytes };
    port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
  } catch (err) {
    reply = { seq, events: batch.n, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(reply);
  }
});
