import { RolegateError, type ErrorCode } from '../errors.js';

/** The ERR_SAML_* subset of the closed code union. */
export type SamlErrorCode = Extract<ErrorCode, `ERR_SAML_${string}`>;

/** Throw the one error type that crosses the SAML boundary. */
export function reject(code: SamlErrorCode, message: string): never {
  throw new RolegateError(code, message);
}

/**
 * A value from the message, quoted and cut short, for log messages: enough to diagnose a misconfiguration
 * (which issuer, which URL), never a whole assertion.
 */
export function quote(value: string | null | undefined): string {
  if (value === null || value === undefined) return '(absent)';
  const short = value.length > 120 ? `${value.slice(0, 120)}…` : value;
  return JSON.stringify(short);
}
