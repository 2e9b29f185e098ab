import { SamlStatusError } from '@node-saml/node-saml';
import { describe, expect, it } from 'vitest';
import { RolegateError } from '../../src/errors.js';
import { mapNodeSamlError, NODE_SAML_ERROR_TABLE } from '../../src/saml/errors-map.js';

describe('the node-saml error table', () => {
  it.each(NODE_SAML_ERROR_TABLE.map((rule) => [rule.example, rule.code, rule] as const))(
    'maps %j to %s, by its own row',
    (example, code, rule) => {
      expect(NODE_SAML_ERROR_TABLE.find((r) => example.includes(r.fragment))).toBe(rule);
      expect(mapNodeSamlError(new Error(example)).code).toBe(code);
    },
  );

  it.each([
    ['Invalid signature', 'ERR_SAML_SIGNATURE'],
    ['Too many signatures found for this element', 'ERR_SAML_SIGNATURE'],
    ['No signature found.', 'ERR_SAML_SIGNATURE'],
    ['could not find SignedInfo element in the message', 'ERR_SAML_SIGNATURE'],
    ["hash algorithm 'urn:x' is not supported", 'ERR_SAML_SIGNATURE'],
    ['could not find DigestValue node in reference <ds:Reference URI="#a"/>', 'ERR_SAML_SIGNATURE'],
    ['Invalid signature, too many transforms', 'ERR_SAML_SIGNATURE'],
    ['Invalid signature: ID cannot refer to more than one element', 'ERR_SAML_SIGNATURE'],
    ["Invalid signature: Referenced node does not refer to it's parent element", 'ERR_SAML_SIGNATURE'],
    ['signature reference uri not found', 'ERR_SAML_SIGNATURE'],
    ['Invalid signature from encrypted assertion', 'ERR_SAML_SIGNATURE'],
    ['SAML assertion expired: assertion too old', 'ERR_SAML_EXPIRED'],
    ["Error parsing NotBefore: 'x' is not a valid date", 'ERR_SAML_EXPIRED'],
    ["Cannot read properties of null (reading 'AudienceRestriction')", 'ERR_SAML_AUDIENCE'],
    ['SAML assertion AudienceRestriction has no Audience value', 'ERR_SAML_AUDIENCE'],
    ['InResponseTo does not match subjectInResponseTo', 'ERR_SAML_IN_RESPONSE_TO'],
    ['Unexpected close tag\nLine: 0\nColumn: 12\nChar: >', 'ERR_SAML_MALFORMED'],
    ['something nobody has seen before', 'ERR_SAML_MALFORMED'],
  ] as const)('maps the real message %j to %s', (message, code) => {
    expect(mapNodeSamlError(new Error(message)).code).toBe(code);
  });

  it('maps a SamlStatusError to ERR_SAML_STATUS without carrying its Status XML', () => {
    const mapped = mapNodeSamlError(new SamlStatusError('SAML provider returned Responder error: AuthnFailed', '<Status>secret</Status>'));
    expect(mapped.code).toBe('ERR_SAML_STATUS');
    expect(mapped.message).not.toContain('secret');
    expect(mapped.cause).toBeUndefined();
  });

  it('passes a RolegateError through and maps a non-Error to MALFORMED', () => {
    const own = new RolegateError('ERR_SAML_ISSUER', 'x');
    expect(mapNodeSamlError(own)).toBe(own);
    expect(mapNodeSamlError('boom').code).toBe('ERR_SAML_MALFORMED');
  });

  it('bounds the logged message to one short line', () => {
    const mapped = mapNodeSamlError(new Error(`Invalid signature ${'x'.repeat(5000)}\nsecond line`));
    expect(mapped.message.length).toBeLessThan(260);
    expect(mapped.message).not.toContain('second line');
  });
});
