import { SAML, SamlStatusError } from '@node-saml/node-saml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodePostBinding } from '../../src/devidp/response.js';
import { RolegateError } from '../../src/errors.js';
import { mapNodeSamlError, NODE_SAML_ERROR_TABLE } from '../../src/saml/errors-map.js';
import { nodeSamlOptions } from '../../src/saml/node-saml-options.js';
import { KEYS, NOW, baselineResponse, idpTrust, testOrg, testSamlSettings } from '../support/saml.js';

/**
 * What node-saml itself throws, fed to the table: node-saml with rolegate's pinned options, given Responses
 * that rolegate's own checks would stop earlier, so each error comes from node-saml's code, not from the
 * table's examples. A node-saml upgrade that rewords one of these messages makes its case fail (the
 * message then matches no row, or the wrong one).
 */
describe('the errors node-saml really throws', () => {
  const org = testOrg();
  const raw = new SAML(nodeSamlOptions(org, testSamlSettings(), idpTrust(org), false));
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  async function thrown(xml: string): Promise<Error> {
    const err: unknown = await raw.validatePostResponseAsync({ SAMLResponse: encodePostBinding(xml) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof Error)) throw new Error('node-saml accepted the Response');
    return err;
  }

  it('accepts the baseline (so every failure below is the one change)', async () => {
    await expect(raw.validatePostResponseAsync({ SAMLResponse: encodePostBinding(baselineResponse()) })).resolves.toBeDefined();
  });

  const cases: readonly [string, string, () => string][] = [
    ['an unsigned Response', 'ERR_SAML_SIGNATURE', () => baselineResponse({ sign: 'none' })],
    ['a Response signed by another key', 'ERR_SAML_SIGNATURE', () => baselineResponse({ privateKey: KEYS.evilKey, cert: KEYS.evilCert })],
    ['a signed assertion changed after signing', 'ERR_SAML_SIGNATURE', () => baselineResponse().replace('alice@example.com</saml:NameID>', 'mallory@example.com</saml:NameID>')],
    ['an assertion past NotOnOrAfter', 'ERR_SAML_EXPIRED', () => baselineResponse({ now: new Date(NOW.getTime() - 86_400_000) })],
    ['an assertion before NotBefore', 'ERR_SAML_EXPIRED', () => baselineResponse({ now: new Date(NOW.getTime() + 3_600_000) })],
    ['an assertion for another audience', 'ERR_SAML_AUDIENCE', () => baselineResponse({ audience: 'https://other-sp.test/metadata' })],
    ['text that is not XML', 'ERR_SAML_MALFORMED', () => 'this is not XML at all'],
  ];
  it.each(cases)('%s: node-saml throws, the table maps it to %s by a row', async (_name, code, build) => {
    const err = await thrown(build());
    expect([err.message.slice(0, 120), mapNodeSamlError(err).code]).toEqual([err.message.slice(0, 120), code]);
    // Matched by a row, not by the fallback for unknown messages.
    expect(NODE_SAML_ERROR_TABLE.some((r) => err.message.includes(r.fragment))).toBe(true);
  });
});

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
