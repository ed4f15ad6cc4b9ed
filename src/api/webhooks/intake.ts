/**
 * Reading a delivery before trusting it: content type, raw body, delivery headers, Vigil's signed scheme with its
 * freshness window, and strict UTF-8 JSON. Each failure is an `ApiError` with the reason.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { ApiError } from '../errors';
import type { WebhookContext } from './context';
import { verifyVigilSignature } from '../../services/webhook-signatures';

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TIMESTAMP = /^\d{1,12}$/;

/** 415 unless the body is declared JSON. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(
      415,
      'content-type must be application/json (for GitHub, set the webhook content type to application/json)',
    );
  }
  await next();
};

/** The body's bytes, as signed (signatures are over these, not over a re-serialisation). */
export async function rawBody(c: Context): Promise<Uint8Array> {
  return new Uint8Array(await c.req.arrayBuffer());
}

/** A delivery id header, checked against a conservative alphabet (it goes into ledger keys and logs). */
export function deliveryHeader(c: Context, name: string): string {
  const v = c.req.header(name);
  if (v === undefined || !DELIVERY_ID.test(v))
    throw new ApiError(400, `missing or malformed ${name} header (1-128 of A-Z a-z 0-9 . _ : -)`);
  return v;
}

/** A 401 for a failed signature, token or freshness check. */
export function refusal(status: 401, message: string): ApiError {
  return new ApiError(status, message);
}

/** Vigil's signed scheme: delivery + timestamp headers, signature over both and the body. */
export async function vigilSigned(
  ctx: WebhookContext,
  c: Context,
  secret: string,
): Promise<{ raw: Uint8Array; deliveryId: string }> {
  const raw = await rawBody(c);
  const deliveryId = deliveryHeader(c, 'x-vigil-delivery');
  const ts = c.req.header('x-vigil-timestamp') ?? '';
  if (!TIMESTAMP.test(ts)) throw new ApiError(400, 'missing or malformed X-Vigil-Timestamp (unix seconds)');
  if (!verifyVigilSignature(secret, ts, deliveryId, raw, c.req.header('x-vigil-signature'))) {
    throw refusal(401, 'invalid or missing X-Vigil-Signature');
  }
  const skewS = Math.abs(ctx.now() / 1000 - Number(ts));
  if (skewS > ctx.limits.toleranceSeconds) {
    throw refusal(
      401,
      `stale delivery: X-Vigil-Timestamp is ${Math.round(skewS)} s from now, outside the ${ctx.limits.toleranceSeconds} s window`,
    );
  }
  return { raw, deliveryId };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8, then JSON; 400 with the parser's reason. */
export function parseJson(raw: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new ApiError(400, 'malformed JSON: body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `malformed JSON: ${(err as Error).message}`);
  }
}
