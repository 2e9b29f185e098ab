/**
 * SCIM error responses (RFC 7644 §3.12): `schemas` naming the Error message, `status` as a JSON string,
 * `detail` for people and `scimType` where the RFC defines one. rolegate's own stable code travels in the
 * `X-Rolegate-Error` header, so callers and tests switch on a code, never on `detail`.
 */
import type { ErrorCode } from '../errors.js';
import { ERROR_STATUS, RolegateError } from '../errors.js';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

const SCIM_TYPES: Partial<Record<ErrorCode, string>> = {
  ERR_SCIM_INVALID_SYNTAX: 'invalidSyntax',
  ERR_SCIM_INVALID_VALUE: 'invalidValue',
  ERR_SCIM_INVALID_FILTER: 'invalidFilter',
  ERR_SCIM_INVALID_PATH: 'invalidPath',
  ERR_SCIM_NO_TARGET: 'noTarget',
  ERR_SCIM_MUTABILITY: 'mutability',
  ERR_SCIM_UNIQUENESS: 'uniqueness',
  // RFC 7644 §3.12: "tooMany" is for result sets; a body past the limit has no scimType.
};

export interface ScimErrorBody {
  readonly schemas: readonly [typeof SCIM_ERROR_SCHEMA];
  readonly status: string;
  readonly detail: string;
  readonly scimType?: string;
}

export function scimErrorBody(err: RolegateError): ScimErrorBody {
  const scimType = SCIM_TYPES[err.code];
  return {
    schemas: [SCIM_ERROR_SCHEMA],
    status: String(ERROR_STATUS[err.code]),
    detail: err.expose ? err.message : 'internal error',
    ...(scimType === undefined ? {} : { scimType }),
  };
}

/** Shorthands for the errors the protocol modules raise. */
export const scimError = {
  syntax: (detail: string) => new RolegateError('ERR_SCIM_INVALID_SYNTAX', detail),
  value: (detail: string) => new RolegateError('ERR_SCIM_INVALID_VALUE', detail),
  filter: (detail: string) => new RolegateError('ERR_SCIM_INVALID_FILTER', detail),
  path: (detail: string) => new RolegateError('ERR_SCIM_INVALID_PATH', detail),
  noTarget: (detail: string) => new RolegateError('ERR_SCIM_NO_TARGET', detail),
  mutability: (detail: string) => new RolegateError('ERR_SCIM_MUTABILITY', detail),
  uniqueness: (detail: string) => new RolegateError('ERR_SCIM_UNIQUENESS', detail),
  notFound: (detail: string) => new RolegateError('ERR_NOT_FOUND', detail),
};
