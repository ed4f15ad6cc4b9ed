/**
 * Worker thread of `FeatureSketchThread`: sketches the inputs of large batch requests off the request thread.
 * Messages in: {rows: SketchRows} | {flush: id}; out: {event: SketchEvent} (a closed bucket) |
 * {sketched: rows} (every 10,000 rows) | {flushed: id, sketched: rows}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FeatureSketcher } from './feature-sketches';
import type { SketchRows, SketchThreadOptions } from './feature-sketch-thread';

const REPORT_ROWS = 10_000;
const opts = workerData as SketchThreadOptions;
const sketcher = new FeatureSketcher({
  bucketMs: opts.bucketMs,
  alpha: opts.alpha,
  centres: new Map(Object.entries(opts.centres)),
  emit: (event) => parentPort!.postMessage({ event }),
});
// Closes idle buckets, as the request thread's timer does for its own sketcher.
setInterval(() => sketcher.rollover(Date.now()), 1000).unref();

/** Each model's feature names as last sent (a request sends them only when they change). */
const names = new Map<string, readonly string[]>();
/** Rows sketched and not yet reported (reported in lots: the request thread bounds its backlog by them). */
let unreported = 0;

parentPort!.on('message', (m: { rows: SketchRows } | { flush: number }) => {
  if ('flush' in m) {
    // Every event of the flush is posted before the acknowledgement (messages keep their order).
    sketcher.flush();
    parentPort!.postMessage({ flushed: m.flush, sketched: unreported });
    unreported = 0;
    return;
  }
  const r = m.rows;
  if (r.names !== undefined) names.set(r.model, r.names);
  const featureNames = names.get(r.model)!;
  sketcher.add(r.model, { featureNames, features: r.features, rows: r.rows, missing: r.missing }, r.atMs, r.site);
  unreported += r.rows;
  if (unreported >= REPORT_ROWS) {
    parentPort!.postMessage({ sketched: unreported });
    unreported = 0;
  }
});
