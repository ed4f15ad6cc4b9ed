/**
 * A large prediction file parsed on a worker thread: `parsePredictionFile` there, the same result or the same
 * DatasetError here. Two files loaded at once (a release's candidate and incumbent) parse on two threads, so
 * the second core shortens the load instead of idling. Small files, and any failure of the worker itself
 * (not of the file), are parsed on the calling thread: the worker costs time, never the result.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ByteStrings, type ByteStringsParts } from './byte-strings';
import { DatasetError, type DatasetErrorCode } from './errors';
import { parsePredictionFile, type PredictionFile } from './predictions';

/**
 * Files below this size are parsed on the calling thread: a worker's start (≈ 0.1 s CPU, more wall time under
 * load) costs about what it saves on a 1M-row file (21 MB, ≈ 0.2 s to parse); a 5M-row file (104 MB) saves ≈ 1 s.
 */
export const PREDICTION_THREAD_MIN_BYTES = 32 << 20;

type Reply =
  | { type: 'file'; sha256: string; ids: ByteStringsParts; scores: Float64Array }
  | { type: 'dataset-error'; code: DatasetErrorCode; message: string; row?: number; column?: string }
  | { type: 'error'; message: string };

// the worker runs the same source as this module: .js when built, .ts through tsx's require hook otherwise
const WORKER_FILE = path.join(__dirname, `prediction-worker${path.extname(__filename)}`);
const startWorker = () =>
  WORKER_FILE.endsWith('.ts')
    ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(WORKER_FILE)});`, { eval: true })
    : new Worker(WORKER_FILE);

/** What the worker answered, or null if the worker itself failed (it died, or could not start). */
function askWorker(
  bytes: Uint8Array,
  expectedSha256: string,
  name: string,
  handOver: boolean,
): Promise<Exclude<Reply, { type: 'error' }> | null> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = startWorker();
    } catch {
      return resolve(null);
    }
    let settled = false;
    const settle = (r: Exclude<Reply, { type: 'error' }> | null) => {
      if (settled) return;
      settled = true;
      resolve(r);
      void worker.terminate();
    };
    worker.once('message', (r: Reply) => settle(r.type === 'error' ? null : r));
    worker.once('error', () => settle(null));
    worker.once('exit', () => settle(null));
    if (handOver) {
      // the caller gave the bytes up: their buffer moves to the worker (emptied here), nothing is copied
      worker.postMessage({ bytes, sha256: expectedSha256, name }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    // one copy into shared memory (a plain buffer would be serialised and copied twice); the caller keeps its own
    let shared = bytes;
    if (!(bytes.buffer instanceof SharedArrayBuffer)) {
      shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
      shared.set(bytes);
    }
    worker.postMessage({ bytes: shared, sha256: expectedSha256, name });
  });
}

/** How the bytes reach the worker. */
export interface PredictionThreadOptions {
  /**
   * The caller gives the bytes up: when they span their whole (non-shared) buffer, it moves to the worker and
   * the caller's view is emptied, instead of being copied (a 5M-row file is 100 MB). A worker that dies then
   * fails the load, as the bytes went with it.
   */
  handOver?: boolean;
}

/**
 * `parsePredictionFile` on a new worker thread, whatever the size: its result, or its DatasetError thrown here;
 * null if the worker itself failed (it could not start, or died).
 */
export async function parsePredictionFileOnWorker(
  bytes: Uint8Array,
  expectedSha256: string,
  name = 'predictions',
  options: PredictionThreadOptions = {},
): Promise<PredictionFile | null> {
  const handOver =
    options.handOver === true &&
    !(bytes.buffer instanceof SharedArrayBuffer) &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength;
  const r = await askWorker(bytes, expectedSha256, name, handOver);
  if (r === null) return null;
  if (r.type === 'dataset-error') throw new DatasetError(r.code, r.message, r.row, r.column);
  return { sha256: r.sha256, ids: ByteStrings.fromParts(r.ids), scores: r.scores };
}

/** `parsePredictionFile(bytes, expectedSha256, name)`, on a worker thread for a large file. */
export async function parsePredictionFileOnThread(
  bytes: Uint8Array,
  expectedSha256: string,
  name = 'predictions',
  options: PredictionThreadOptions = {},
): Promise<PredictionFile> {
  const size = bytes.byteLength;
  if (size < PREDICTION_THREAD_MIN_BYTES || !/^[0-9a-f]{64}$/.test(expectedSha256))
    return parsePredictionFile(bytes, expectedSha256, name); // small, or a bad pin (its RangeError, here)
  const file = await parsePredictionFileOnWorker(bytes, expectedSha256, name, options);
  if (file) return file;
  if (bytes.byteLength !== size) throw new Error(`prediction file ${name}: its parsing thread failed`);
  return parsePredictionFile(bytes, expectedSha256, name);
}
