/** The gateway's small HTTP helpers: error answers, JSON answers, bounded body reading, token digests. */
import { createHash } from 'node:crypto';
import type http from 'node:http';

/** A refusal with its status and extra JSON fields for the answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** sha256 of a token, compared in constant time against the configured one. */
export function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** A JSON text answer; headers as a flat list (no header map is built). */
export function sendText(res: http.ServerResponse, status: number, text: string, modelVersion: string): void {
  if (res.headersSent) return;
  res.writeHead(status, [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(text)),
    'x-vigil-model-version',
    modelVersion,
  ]);
  res.end(text);
}

/** A JSON answer already encoded (`inferResponseBytes`); headers as a flat list. */
export function sendBytes(res: http.ServerResponse, status: number, body: Buffer, modelVersion: string): void {
  if (res.headersSent) return;
  res.writeHead(status, [
    'content-type',
    'application/json',
    'content-length',
    String(body.length),
    'x-vigil-model-version',
    modelVersion,
  ]);
  res.end(body);
}

export function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The raw body; 413 past `max` bytes. Calls back once. */
export function readRaw(
  req: http.IncomingMessage,
  max: number,
  done: (err: Error | null, body: Buffer | null) => void,
): void {
  let first: Buffer | null = null;
  let chunks: Buffer[] | null = null;
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, body: Buffer | null): void => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  req.on('data', (c: Buffer) => {
    if (finished) return;
    size += c.length;
    if (size > max) {
      finish(new HttpError(413, `body larger than ${max} bytes`), null);
      req.destroy();
      return;
    }
    if (first === null) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.on('error', (e) => finish(e, null));
  req.on('end', () => finish(null, chunks ? Buffer.concat(chunks) : (first ?? Buffer.alloc(0))));
}

/** The body parsed as JSON; 413 past `max` bytes, 400 if it is not JSON. */
export function readJson(req: http.IncomingMessage, max: number): Promise<unknown> {
  return new Promise((resolve, reject) =>
    readRaw(req, max, (err, raw) => {
      if (err) return reject(err);
      try {
        resolve(JSON.parse(raw!.toString('utf8')));
      } catch {
        reject(new HttpError(400, 'body is not valid JSON'));
      }
    }),
  );
}
