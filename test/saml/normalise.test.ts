/** toVerifiedLogin on shapes node-saml can hand over that a signed test Response cannot easily produce. */
import { describe, expect, it } from 'vitest';
import type { AssertionFacts } from '../../src/saml/assertion.js';
import { toVerifiedLogin } from '../../src/saml/normalise.js';

const facts: AssertionFacts = {
  assertionId: '_a',
  issuer: 'https://idp.test/metadata',
  nameId: 'alice@example.com',
  nameIdFormat: null,
  sessionIndex: null,
  inResponseTo: null,
  scdNotOnOrAfterMs: 1_000,
  conditionsNotOnOrAfterMs: null,
  attributeElementCount: new Map([['Groups', 1]]),
};
const ctx = {
  organizationId: 1,
  attributeNames: { email: 'Email', firstName: 'FirstName', lastName: 'LastName', groups: 'Groups' },
  clockSkewMs: 60_000,
};

describe('toVerifiedLogin', () => {
  it('rejects an attribute value with element content (an object from node-saml)', () => {
    expect(() => toVerifiedLogin({ Groups: ['LS-Admins', { $: {}, Inner: [] }] }, facts, ctx)).toThrow(
      expect.objectContaining({ code: 'ERR_SAML_ATTRIBUTES' }),
    );
  });

  it('treats a single string and a one-element list alike', () => {
    expect(toVerifiedLogin({ Groups: 'LS-Admins' }, facts, ctx).groups).toEqual(['LS-Admins']);
    expect(toVerifiedLogin({ Groups: ['LS-Admins'] }, facts, ctx).groups).toEqual(['LS-Admins']);
  });

  it('reads only own properties (an inherited Groups is absent)', () => {
    const inherited: Record<string, unknown> = Object.create({ Groups: ['LS-Admins'] });
    expect(toVerifiedLogin(inherited, { ...facts, attributeElementCount: new Map() }, ctx).groups).toBeNull();
  });

  it('tolerates a missing attributes object', () => {
    const login = toVerifiedLogin(undefined, { ...facts, attributeElementCount: new Map() }, ctx);
    expect([login.email, login.groups, login.replayCacheUntil.getTime()]).toEqual(['alice@example.com', null, 61_000]);
  });
});
