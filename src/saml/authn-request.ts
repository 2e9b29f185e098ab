/** SP-initiated login: the HTTP-Redirect URL to the IdP, and the AuthnRequest id to bind to the browser. */
import { inflateRawSync } from 'node:zlib';
import type { SAML } from '@node-saml/node-saml';
import { RolegateError } from '../errors.js';
import type { AuthnRequestRedirect } from './types.js';
import { parseStrict } from './xml.js';

export async function buildAuthnRequestRedirect(saml: SAML, relayState: string): Promise<AuthnRequestRedirect> {
  // node-saml generates the request id itself (crypto random, "_" + 40 hex) and, with
  // validateInResponseTo 'never', stores it nowhere. Rather than capturing it through a shared
  // generateUniqueId hook (racy if two requests interleave), read it back from the request just built.
  const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
  return { url, requestId: readRequestId(url) };
}

function readRequestId(url: string): string {
  try {
    const encoded = new URL(url).searchParams.get('SAMLRequest');
    if (encoded === null) throw new Error('no SAMLRequest parameter');
    // Our own output, but bounded anyway.
    const xml = inflateRawSync(Buffer.from(encoded, 'base64'), { maxOutputLength: 64 * 1024 }).toString('utf8');
    const request = parseStrict(xml, 'AuthnRequest').documentElement;
    const id = request.getAttribute('ID');
    if (request.localName !== 'AuthnRequest' || id === null || id === '') throw new Error('no AuthnRequest@ID');
    return id;
  } catch (err) {
    throw new RolegateError('ERR_INTERNAL', 'could not read the id of the AuthnRequest node-saml built', { cause: err });
  }
}
