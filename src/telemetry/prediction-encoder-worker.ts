/**
 * Worker thread of `PredictionRecorder`: HMACs the case ids of large row batches and encodes them as
 * prediction batch lines, off the request thread, and sketches those batches' inputs into buckets of its own.
 * Messages in: {id, batch: PackedRowBatch, inputs?: ThreadInputs} | {flush: id}; out: {id, text, n} (text: the
 * line's UTF-8 bytes, transferred) or {id, error}; {event: SketchEvent} (a closed bucket); {flushed: id}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FeatureSketcher } from './feature-sketcher';
import { HmacSha256x4 } from './hmac-sha256-x4';
import type { EncoderSketchOptions, ThreadInputs } from './prediction-recorder';
import { encodeRowBatch, type PackedRowBatch } from './row-batch';

const data = workerData as { caseIdKey: string; sketches: Omit<EncoderSketchOptions, 'emit' | 'here'> | null };
const hmac = new HmacSha256x4(data.caseIdKey);
const sk = data.sketches;
const sketcher = sk
  ? new FeatureSketcher({
      bucketMs: sk.bucketMs,
      ...(sk.alpha !== undefined ? { alpha: sk.alpha } : {}),
      centres: new Map(Object.entries(sk.centres)),
      emit: (event) => parentPort!.postMessage({ event }),
    })
  : null;
// Closes idle buckets, as the request thread's timer does for its own sketcher.
if (sketcher) setInterval(() => sketcher.rollover(Date.now()), 1000).unref();
/** Each model's feature names as last sent (a batch sends them only when they change). */
const names = new Map<string, readonly string[]>();

parentPort!.on('message', (m: { id: number; batch: PackedRowBatch; inputs?: ThreadInputs } | { flush: number }) => {
  if ('flush' in m) {
    // Every event of the flush is posted before the acknowledgement (messages keep their order).
    sketcher?.flush();
    parentPort!.postMessage({ flushed: m.flush });
    return;
  }
  try {
    const line = encodeRowBatch(m.batch, hmac);
    // The line's memory is handed over, not copied.
    parentPort!.postMessage({ id: m.id, text: line, n: m.batch.idEnds.length }, [line.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
  // After the line: its durability is not held up by the sketch.
  const r = m.inputs;
  if (sketcher && r) {
    if (r.names !== undefined) names.set(m.batch.model, r.names);
    const featureNames = names.get(m.batch.model)!;
    const b = m.batch;
    sketcher.add(b.model, { featureNames, features: r.features, rows: r.rows, missing: r.missing }, b.atMs, b.site);
  }
});
