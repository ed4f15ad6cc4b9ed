import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { EvidencePort } from '../../src/contracts/ports';
import type { EvidenceRef } from '../../src/domain';
import {
  pointersFor,
  segmentBytes,
  TelemetryLiveSource,
  type SegmentPointer,
  type TelemetryEvent,
} from '../../src/telemetry';

/** A content-addressed in-memory evidence store for activity tests: reads check the digest, named puts are not used. */
export function memoryEvidence(): EvidencePort & { json: (ref: EvidenceRef) => unknown; docs: () => unknown[] } {
  const blobs = new Map<string, Uint8Array>();
  const put = async (bytes: Uint8Array, mediaType: string): Promise<EvidenceRef> => {
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    blobs.set(`sha256/${sha256}`, bytes);
    return { key: `sha256/${sha256}`, sha256, size: bytes.length, mediaType };
  };
  return {
    json: (ref) => JSON.parse(Buffer.from(blobs.get(ref.key)!).toString('utf8')) as unknown,
    docs: () =>
      [...blobs.values()].flatMap((b) => {
        try {
          return [JSON.parse(Buffer.from(b).toString('utf8')) as unknown];
        } catch {
          return [];
        }
      }),
    putBytes: put,
    putJson: (v) => put(Buffer.from(JSON.stringify(v)), 'application/json'),
    putNamed: async () => assert.fail('not used'),
    getBytes: async (key, expected) => {
      const b = blobs.get(key);
      if (!b) throw new Error(`not found: ${key}`);
      if (expected && crypto.createHash('sha256').update(b).digest('hex') !== expected)
        throw new Error(`integrity: ${key}`);
      return Buffer.from(b);
    },
  };
}

/**
 * Events as uploaded segments (one per part, `parts` event counts at which to cut) behind a TelemetryLiveSource,
 * what the worker wires with VIGIL_LIVE_SOURCE=telemetry; `now` is the source's clock (outcomes known until then).
 */
export function segmentSource(
  events: TelemetryEvent[],
  opts: { now: string; cuts?: number[] },
): { source: TelemetryLiveSource; segments: string[] } {
  const objects = new Map<string, Buffer>();
  const byWindow = new Map<string, SegmentPointer[]>();
  const segments: string[] = [];
  const bounds = [0, ...(opts.cuts ?? []), events.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = events.slice(bounds[i], bounds[i + 1]);
    if (part.length === 0) continue;
    const bytes = segmentBytes(part);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const ref: EvidenceRef = { key: `sha256/${sha256}`, sha256, size: bytes.length, mediaType: 'application/x-ndjson' };
    objects.set(ref.key, bytes);
    segments.push(sha256);
    for (const p of pointersFor(part, ref)) byWindow.set(p.window, [...(byWindow.get(p.window) ?? []), p]);
  }
  const source = new TelemetryLiveSource(
    { pointers: async (w) => byWindow.get(w) ?? [] },
    { getJson: () => Promise.reject(new Error('unused')), getBytes: async (key) => objects.get(key)! },
    () => new Date(opts.now),
  );
  return { source, segments };
}
