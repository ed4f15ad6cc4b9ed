/**
 * Worker thread of `parsePredictionFileOnThread` (prediction-thread.ts): checks and parses one prediction file
 * with `parsePredictionFile` and posts the ids and scores back (their buffers transferred, not copied), or the
 * DatasetError's fields so the calling thread throws the same error.
 */
import { parentPort } from 'node:worker_threads';
import { DatasetError } from './errors';
import { parsePredictionFile } from './predictions';

const port = parentPort!;

port.once('message', (m: { bytes: Uint8Array; sha256: string; name: string }) => {
  try {
    // as a Buffer over the same (shared) memory: Buffer#indexOf finds line breaks with memchr
    const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
    const file = parsePredictionFile(bytes, m.sha256, m.name);
    const ids = file.ids.toParts();
    const buffers = new Set([ids.arena.buffer, ids.offsets.buffer, file.scores.buffer, ids.hashes?.buffer]);
    buffers.delete(undefined);
    port.postMessage({ type: 'file', sha256: file.sha256, ids, scores: file.scores }, [...buffers] as ArrayBuffer[]);
  } catch (e) {
    if (e instanceof DatasetError)
      port.postMessage({ type: 'dataset-error', code: e.code, message: e.message, row: e.row, column: e.column });
    else port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
