/** Step a and the document-level part of step b: what is refused before/at the first parse. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodePostBinding } from '../../src/devidp/response.js';
import { baselineResponse, expectSamlError, NOW, postForm, replaceOnce, testOrg, testProvider, testSamlSettings } from '../support/saml.js';

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const verify = (xml: string) => testProvider().verifyPostResponse(postForm(xml));
const verifyForm = (form: Record<string, unknown>) => testProvider().verifyPostResponse(form);

describe('the posted form', () => {
  it('rejects a missing SAMLResponse', async () => {
    await expectSamlError(verifyForm({}), 'ERR_SAML_MALFORMED');
  });

  it('rejects a repeated SAMLResponse field (an array)', async () => {
    const encoded = encodePostBinding(baselineResponse());
    await expectSamlError(verifyForm({ SAMLResponse: [encoded, encoded] }), 'ERR_SAML_MALFORMED');
  });

  it('does not read SAMLResponse from the prototype', async () => {
    const form: Record<string, unknown> = Object.create({ SAMLResponse: encodePostBinding(baselineResponse()) });
    await expectSamlError(verifyForm(form), 'ERR_SAML_MALFORMED');
  });

  it('rejects invalid base64 that Buffer.from would silently skip over', async () => {
    const encoded = encodePostBinding(baselineResponse());
    const bad = `${encoded.slice(0, 40)}!!!!${encoded.slice(40)}`;
    expect(Buffer.from(bad, 'base64').toString('utf8')).toContain('samlp:Response'); // what node-saml would see
    await expectSamlError(verifyForm({ SAMLResponse: bad }), 'ERR_SAML_MALFORMED');
  });

  it('rejects base64 with wrong padding', async () => {
    await expectSamlError(verifyForm({ SAMLResponse: `${encodePostBinding(baselineResponse())}=` }), 'ERR_SAML_MALFORMED');
  });

  it('rejects bytes that are not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from(baselineResponse(), 'utf8'), Buffer.from([0xff, 0xfe])]);
    await expectSamlError(verifyForm({ SAMLResponse: bytes.toString('base64') }), 'ERR_SAML_MALFORMED');
  });
});

describe('size', () => {
  it('rejects a Response one byte over maxResponseBytes and accepts one exactly at it', async () => {
    const xml = baselineResponse();
    const size = Buffer.byteLength(xml, 'utf8');
    const tight = testProvider(testOrg(), testSamlSettings({ maxResponseBytes: size - 1 }));
    await expectSamlError(tight.verifyPostResponse(postForm(xml)), 'ERR_SAML_TOO_LARGE');
    const exact = testProvider(testOrg(), testSamlSettings({ maxResponseBytes: size }));
    await expect(exact.verifyPostResponse(postForm(xml))).resolves.toMatchObject({ assertionId: '_assertion-1' });
  });

  it('rejects a multi-megabyte body before decoding it', async () => {
    await expectSamlError(verifyForm({ SAMLResponse: 'A'.repeat(4 * 1024 * 1024) }), 'ERR_SAML_TOO_LARGE');
  });
});

describe('before and around the root element', () => {
  it('rejects a DOCTYPE without entities (node-saml alone accepts it)', async () => {
    await expectSamlError(verify(`<!DOCTYPE r [<!ELEMENT r ANY>]>${baselineResponse()}`), 'ERR_SAML_MALFORMED');
  });

  it('rejects a lower-case doctype after an XML declaration', async () => {
    await expectSamlError(verify(`<?xml version="1.0"?><!doctype samlp:Response>${baselineResponse()}`), 'ERR_SAML_MALFORMED');
  });

  it('rejects an ENTITY declaration anywhere', async () => {
    const xml = replaceOnce(baselineResponse(), '<samlp:Status>', '<samlp:Status><!-- <!ENTITY x "y"> -->');
    await expectSamlError(verify(xml), 'ERR_SAML_MALFORMED');
  });

  it('rejects junk text before the root (node-saml alone accepts it)', async () => {
    await expectSamlError(verify(`junk${baselineResponse()}`), 'ERR_SAML_MALFORMED');
  });

  it('rejects a comment before the root', async () => {
    await expectSamlError(verify(`<!-- hello -->${baselineResponse()}`), 'ERR_SAML_MALFORMED');
  });

  it('rejects text after the root', async () => {
    await expectSamlError(verify(`${baselineResponse()}junk`), 'ERR_SAML_MALFORMED');
  });

  it('rejects a second root element (CVE-2022-39299)', async () => {
    await expectSamlError(verify(`${baselineResponse()}<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`), 'ERR_SAML_MALFORMED');
  });

  it('rejects an undeclared entity reference (XXE / billion laughs without a DTD)', async () => {
    const xml = replaceOnce(baselineResponse(), '>alice@example.com</saml:NameID>', '>&u;</saml:NameID>');
    await expectSamlError(verify(xml), 'ERR_SAML_MALFORMED');
  });

  it('rejects a NUL character', async () => {
    const xml = replaceOnce(baselineResponse(), '>LS-Admins<', '>LS-Admins\u0000<');
    await expectSamlError(verify(xml), 'ERR_SAML_MALFORMED');
  });

  it('rejects a root that is not samlp:Response', async () => {
    const xml = baselineResponse().replace(/^<samlp:Response/, '<samlp:ArtifactResponse').replace(/<\/samlp:Response>$/, '</samlp:ArtifactResponse>');
    await expectSamlError(verify(xml), 'ERR_SAML_MALFORMED');
  });
});
