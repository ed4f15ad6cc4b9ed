import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expandPredictionBatch, type TelemetryEvent } from './events';

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);
const close = promisify(fs.close);
const open = promisify(fs.open);
const fsync = promisify(fs.fsync);

const SEGMENT = /^wal-(\d{12})\.ndjson$/;

export interface WalOptions {
  dir: string;
  /** Group-commit window: a batch is written and fsynced at most this long after its first event. */
  flushIntervalMs?: number;
  /** …or as soon as this many events are pending (while someone waits for an acknowledgement). */
  flushEvents?: number;
  /** Group-commit window when only relaxed appends (nobody waiting for an acknowledgement) are pending. */
  relaxedFlushIntervalMs?: number;
  /**
   * …or as soon as this many bytes of them are pending. Relaxed batches are not cut at `flushEvents`: a
   * busy gateway would otherwise write and fdatasync every few milliseconds for events nobody waits on.
   */
  relaxedFlushBytes?: number;
  /** A segment is sealed (handed to the uploader) past this size or age. */
  segmentMaxBytes?: number;
  segmentMaxAgeMs?: number;
}

interface Pending {
  /** The batch's lines, already encoded: UTF-8, each followed by a newline, in `buf[0, bytes)`. */
  buf: Buffer;
  bytes: number;
  events: number;
  /** Some append in this batch is waiting to acknowledge a client. */
  strict: boolean;
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

/** A batch buffer is kept for reuse up to this size (a few thousand events); a rare larger batch gets its own. */
const REUSE_MAX_BYTES = 4 * 1024 * 1024;
const INITIAL_BYTES = 64 * 1024;

/**
 * Append-only telemetry log with group commit: `append` resolves only after the batch holding its
 * events has been written and fdatasync'ed, so an acknowledged event survives a SIGKILL or power
 * loss. Writes and syncs run on the libuv pool (never blocking the event loop); one flush is in
 * flight at a time and the next batch accumulates meanwhile.
 *
 * Files: `wal-<seq>.ndjson`, one JSON event per line (or one batch of prediction events: `PredictionBatchLine`). The highest-numbered file is active; every
 * other file is sealed and waits for upload. On open, every existing file counts as sealed (a torn
 * last line of a crashed writer was never acknowledged and is skipped when read).
 */
export class WriteAheadLog {
  private fd = -1;
  private seq = 0;
  private bytes = 0;
  private openedAt = 0;
  private pending: Pending = newPending(Buffer.allocUnsafe(INITIAL_BYTES));
  /** The buffer of the last written batch, reused by the next one (one flush is in flight at a time). */
  private spare: Buffer | null = null;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private closed = false;
  /** Sealing happens inside the flush chain, so no write can race the segment's close. */
  private sealRequested = false;
  private readonly sealed: string[] = [];
  private readonly sealListeners = new Set<() => void>();
  private readonly flushIntervalMs: number;
  private readonly flushEvents: number;
  private readonly relaxedFlushIntervalMs: number;
  private readonly relaxedFlushBytes: number;
  private readonly segmentMaxBytes: number;
  /** A segment holding events is sealed once it is this old (ms). */
  readonly segmentMaxAgeMs: number;
  /** Events acknowledged since open. */
  acknowledged = 0;

  private constructor(
    readonly dir: string,
    opts: WalOptions,
  ) {
    this.flushIntervalMs = opts.flushIntervalMs ?? 5;
    this.flushEvents = opts.flushEvents ?? 512;
    this.relaxedFlushIntervalMs = opts.relaxedFlushIntervalMs ?? 50;
    this.relaxedFlushBytes = opts.relaxedFlushBytes ?? 2 * 1024 * 1024;
    this.segmentMaxBytes = opts.segmentMaxBytes ?? 8 * 1024 * 1024;
    this.segmentMaxAgeMs = opts.segmentMaxAgeMs ?? 10_000;
  }

  static async open(opts: WalOptions): Promise<WriteAheadLog> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const wal = new WriteAheadLog(opts.dir, opts);
    const existing = fs
      .readdirSync(opts.dir)
      .map((f) => SEGMENT.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    // Left over from a previous process: sealed as they are, replayed by the uploader.
    for (const s of existing) wal.sealed.push(wal.pathOf(s));
    wal.seq = existing.length ? existing[existing.length - 1]! : 0;
    wal.startSegment();
    return wal;
  }

  /**
   * Resolves once every event is durable on disk. `relaxed`: the caller acknowledges nothing to anyone
   * (gateway prediction events), so the batch may wait for the longer relaxed window; it is still written
   * and synced in order with everything else.
   */
  append(events: readonly TelemetryEvent[], opts: { relaxed?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('telemetry WAL is closed'));
    if (events.length === 0) return Promise.resolve();
    let lines: string[];
    try {
      lines = events.map((e) => JSON.stringify(e));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return this.appendSerialized(lines, opts);
  }

  /**
   * As `append`, for events the caller already serialised: each line must be the single-line JSON
   * text of one TelemetryEvent, with case ids already hashed.
   */
  appendSerialized(lines: readonly string[], opts: { relaxed?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('telemetry WAL is closed'));
    if (lines.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      // Encoded now rather than at flush time: the strings die young instead of surviving (and being
      // copied by) the garbage collector while the batch waits for its group commit.
      for (let i = 0; i < lines.length; i++) this.encodeLine(lines[i]!);
      this.pending.events += lines.length;
      if (!opts.relaxed) this.pending.strict = true;
      this.pending.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /**
   * As `appendSerialized`, for lines already joined into one text, each followed by a newline, that hold
   * `events` events (the gateway's PredictionRecorder: one `PredictionBatchLine` of `events` predictions).
   */
  appendEncoded(text: string | Uint8Array, events: number, opts: { relaxed?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new Error('telemetry WAL is closed'));
    const whole = typeof text === 'string' ? text.endsWith('\n') : text[text.length - 1] === 10;
    if (!(events > 0) || !whole)
      return Promise.reject(
        new RangeError(`appendEncoded: ${events} events must be whole lines ending with a newline`),
      );
    return new Promise<void>((resolve, reject) => {
      // reserve() may give the pending batch a larger buffer: p.buf is read after it.
      const p = this.pending;
      if (typeof text === 'string') {
        // A UTF-16 code unit is at most 3 UTF-8 bytes.
        this.reserve(text.length * 3);
        p.bytes += p.buf.write(text, p.bytes, 'utf8');
      } else {
        // Already UTF-8 (the encoder thread's lines): copied as they are.
        this.reserve(text.length);
        p.buf.set(text, p.bytes);
        p.bytes += text.length;
      }
      p.events += events;
      if (!opts.relaxed) p.strict = true;
      p.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Sealed segment files waiting for upload, oldest first. */
  sealedSegments(): readonly string[] {
    return this.sealed;
  }

  /** The uploader removes a segment once it is safely in the evidence store. */
  removeSealed(file: string): void {
    const i = this.sealed.indexOf(file);
    if (i >= 0) this.sealed.splice(i, 1);
    fs.rmSync(file, { force: true });
    syncDir(this.dir);
  }

  onSeal(listener: () => void): () => void {
    this.sealListeners.add(listener);
    return () => this.sealListeners.delete(listener);
  }

  /** Every durable line in the WAL (sealed and active), for queries over not-yet-uploaded events. */
  *scanLocal(): Generator<TelemetryEvent> {
    for (const file of [...this.sealed, this.pathOf(this.seq)]) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        continue; // uploaded and removed meanwhile
      }
      yield* parseSegment(text).events;
    }
  }

  /** Seal the active segment now (after flushing what is pending), e.g. in tests. */
  async rotate(): Promise<void> {
    this.sealRequested = true;
    if (!this.flushing) this.startFlush();
    await this.flush();
  }

  /** Seal the active segment if it holds events and is older than the segment age limit; true if it did. */
  async sealIfOld(): Promise<boolean> {
    if (this.closed || this.bytes === 0 || Date.now() - this.openedAt < this.segmentMaxAgeMs) return false;
    await this.rotate();
    return true;
  }

  /** Bytes written to the active (unsealed) segment. */
  get activeBytes(): number {
    return this.bytes;
  }

  /**
   * Resolves once everything appended before the call is durable, in its batch's own time (relaxed events
   * within their window); rejects if that write failed. Unlike `flush`, later appends are not waited for,
   * so it ends under steady load.
   */
  barrier(): Promise<void> {
    if (this.pending.events > 0)
      return new Promise<void>((resolve, reject) => this.pending.waiters.push({ resolve, reject }));
    if (!this.flushing) return Promise.resolve();
    // The batch in flight carries the last appends: its waiters see its error, this one only its end.
    return new Promise<void>((resolve) => void this.flushing!.then(resolve, resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await close(this.fd);
    if (this.bytes > 0) this.markSealed(this.pathOf(this.seq));
    else fs.rmSync(this.pathOf(this.seq), { force: true });
  }

  /** Write and sync everything pending; resolves when it is durable. */
  async flush(): Promise<void> {
    while (this.flushing || this.pending.events > 0 || this.sealRequested) {
      if (this.flushing) await this.flushing;
      else this.startFlush();
    }
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush picks this batch up when it ends
    const p = this.pending;
    if (p.strict ? p.events >= this.flushEvents : p.bytes >= this.relaxedFlushBytes) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.startFlush();
      return;
    }
    const due = Date.now() + (p.strict ? this.flushIntervalMs : this.relaxedFlushIntervalMs);
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.flushing) this.startFlush();
    }, due - Date.now());
  }

  private startFlush(): void {
    const batch = this.pending;
    this.pending = newPending(this.spare ?? Buffer.allocUnsafe(INITIAL_BYTES));
    this.spare = null;
    this.flushing = this.writeBatch(batch).finally(() => {
      this.flushing = null;
      // The write is complete (or failed): nothing reads this buffer any more.
      if (batch.buf.length <= REUSE_MAX_BYTES) this.spare = batch.buf;
      if (this.pending.events > 0 && !this.closed) this.schedule();
    });
  }

  private async writeBatch(batch: Pending): Promise<void> {
    if (batch.events === 0) {
      if (this.sealRequested) await this.seal();
      return;
    }
    const buf = batch.buf.subarray(0, batch.bytes);
    try {
      let off = 0;
      while (off < buf.length) off += (await write(this.fd, buf, off, buf.length - off)).bytesWritten;
      await fdatasync(this.fd);
      this.bytes += buf.length;
      this.acknowledged += batch.events;
      for (const w of batch.waiters) w.resolve();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const w of batch.waiters) w.reject(e);
      return;
    }
    if (this.sealRequested || this.bytes >= this.segmentMaxBytes || Date.now() - this.openedAt >= this.segmentMaxAgeMs)
      await this.seal();
  }

  /** Append one line (UTF-8) and its newline to the pending batch, growing its buffer when needed. */
  private encodeLine(line: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4 bytes).
    this.reserve(line.length * 3 + 1);
    const p = this.pending;
    p.bytes += p.buf.write(line, p.bytes, 'utf8');
    p.buf[p.bytes++] = 10;
  }

  /** Room for `need` more bytes in the pending batch's buffer. */
  private reserve(need: number): void {
    const p = this.pending;
    if (p.buf.length - p.bytes >= need) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * p.buf.length, p.bytes + need));
    p.buf.copy(grown, 0, 0, p.bytes);
    p.buf = grown;
  }

  private async seal(): Promise<void> {
    this.sealRequested = false;
    if (this.bytes === 0) return;
    const file = this.pathOf(this.seq);
    await close(this.fd);
    // The directory is synced on the libuv pool: a synchronous fsync here stalled every request for its duration.
    await this.startSegmentAsync();
    this.markSealed(file);
  }

  private async startSegmentAsync(): Promise<void> {
    const seq = this.seq + 1;
    const fd = await open(this.pathOf(seq), 'a');
    const dirFd = await open(this.dir, 'r');
    try {
      await fsync(dirFd);
    } finally {
      await close(dirFd);
    }
    this.seq = seq;
    this.fd = fd;
    this.bytes = 0;
    this.openedAt = Date.now();
  }

  private markSealed(file: string): void {
    this.sealed.push(file);
    for (const l of this.sealListeners) l();
  }

  private startSegment(): void {
    this.seq += 1;
    this.fd = fs.openSync(this.pathOf(this.seq), 'a');
    syncDir(this.dir);
    this.bytes = 0;
    this.openedAt = Date.now();
  }

  private pathOf(seq: number): string {
    return path.join(this.dir, `wal-${String(seq).padStart(12, '0')}.ndjson`);
  }
}

function newPending(buf: Buffer): Pending {
  return { buf, bytes: 0, events: 0, strict: false, waiters: [] };
}

/**
 * Valid events of a segment's text, prediction batch lines expanded into their events; a torn or corrupt
 * line (never acknowledged) is counted and skipped.
 */
export function parseSegment(text: string): { events: TelemetryEvent[]; skipped: number } {
  const events: TelemetryEvent[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    if (!e || typeof e !== 'object') skipped++;
    else if ((e as { kind?: unknown }).kind === 'predictions') {
      const batch = expandPredictionBatch(e as Record<string, unknown>);
      if (batch) for (const p of batch) events.push(p);
      else skipped++;
    } else if (typeof (e as TelemetryEvent).eventId === 'string' && typeof (e as TelemetryEvent).kind === 'string')
      events.push(e as TelemetryEvent);
    else skipped++;
  }
  return { events, skipped };
}

/** Make a created or removed file name durable. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
