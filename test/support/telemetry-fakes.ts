import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'node:test';
import type { EvidenceRef } from '../../src/domain/evidence';
import { canonicalBytes, sha256Hex } from '../../src/evidence';
import { hashCaseId, parseSegment, type PredictionEvent, type SegmentPointer } from '../../src/telemetry';

/** Temp directories for WALs, removed after each test of the file that calls this once. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

let n = 0;
/** A prediction event with a fresh id and case (the fields tests do not care about fixed). */
export function prediction(over: Partial<PredictionEvent> = {}): PredictionEvent {
  n++;
  return {
    kind: 'prediction',
    eventId: `evt-${n.toString().padStart(8, '0')}`,
    at: '2026-03-01T10:15:00.000Z',
    model: 'sepsis-alert',
    modelVersion: '1.4.0',
    route: 'production',
    routeVersion: 1,
    caseIdHash: hashCaseId(`case-${n}`, 'k'.repeat(16)),
    score: 0.4,
    decision: false,
    latencyMs: 0.3,
    quality: [],
    ...over,
  };
}

/** An in-memory evidence store with the create-only semantics the uploader relies on; `failNext` fails uploads. */
export class MemorySink {
  readonly objects = new Map<string, Buffer>();
  failNext = 0;
  async putBytes(bytes: Uint8Array, mediaType: string): Promise<EvidenceRef> {
    if (this.failNext-- > 0) throw new Error('S3 unavailable');
    const sha256 = sha256Hex(bytes);
    this.objects.set(`sha256/${sha256}`, Buffer.from(bytes));
    return { key: `sha256/${sha256}`, sha256, size: bytes.length, mediaType };
  }
  async putNamed(key: string, value: unknown): Promise<EvidenceRef> {
    const bytes = canonicalBytes(value);
    const existing = this.objects.get(key);
    if (existing && !existing.equals(bytes)) throw new Error(`conflict at ${key}`);
    this.objects.set(key, bytes);
    return { key, sha256: sha256Hex(bytes), size: bytes.length, mediaType: 'application/json' };
  }
  async getJson(key: string): Promise<unknown> {
    return JSON.parse(this.objects.get(key)!.toString('utf8'));
  }
  async getBytes(key: string): Promise<Uint8Array> {
    return this.objects.get(key)!;
  }
  /** Every event in an uploaded segment. */
  uploadedEventIds(): Set<string> {
    const ids = new Set<string>();
    for (const [k, v] of this.objects)
      if (k.startsWith('sha256/')) for (const e of parseSegment(v.toString('utf8')).events) ids.add(e.eventId);
    return ids;
  }
  pointers(window: string): SegmentPointer[] {
    return [...this.objects]
      .filter(([k]) => k.startsWith(`telemetry/index/${window}/`))
      .map(([, v]) => JSON.parse(v.toString('utf8')) as SegmentPointer);
  }
}
