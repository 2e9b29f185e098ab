/**
 * Standard Webhooks signing (symmetric, `v1`): the signature is base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))
 * where the key is the base64-decoded part of the endpoint's `whsec_` secret. The exact bytes signed are the
 * bytes sent; `webhook-timestamp` is the attempt's time in Unix seconds (receivers reject old timestamps, so a
 * retry is signed anew with the same id and body).
 */
import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** The HMAC key of a `whsec_<base64>` secret (the configuration loader has checked the format). */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

export function sign(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  // Ids and timestamps never contain ".", so the signed content cannot be split two ways.
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest('base64')}`;
}

export function signedHeaders(key: Buffer, id: string, timestampSeconds: number, body: string): SignedHeaders {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': sign(key, id, timestampSeconds, body) };
}
