/**
 * The exact third-party versions the fast path was written against and checked with (the differential gate
 * in test/saml/fast-path-gate.test.ts). The fast path re-enacts node-saml's `getVerifiedXml` and
 * `processValidlySignedAssertionAsync` and drives xml-crypto's SignedXml through some of its internal
 * methods; a different version may change either, so with any other version installed the fast path
 * refuses to run and every Response goes through stock node-saml (see `fastPathSupport`).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const PINNED_VERSIONS: Readonly<Record<string, string>> = {
  '@node-saml/node-saml': '5.1.0',
  'xml-crypto': '6.3.2',
  '@xmldom/xmldom': '0.8.15',
};

/** The SignedXml internals the fast path calls or replaces on an instance (see xml-crypto-document.ts). */
export const SIGNED_XML_INTERNALS = [
  'loadSignature',
  'loadReference',
  'getReferences',
  'getSignedReferences',
  'getCanonSignedInfoXml',
  'getCanonReferenceXml',
  'getCanonXml',
  'canonicalize',
  'validateReference',
  'findLoadedSignature',
  'findSignatureAlgorithm',
  'findHashAlgorithm',
] as const;

function installedVersion(name: string): string | null {
  try {
    // The packages publish no "exports" map, so their package.json is reachable.
    return (require(`${name}/package.json`) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

let cached: { readonly ok: boolean; readonly reason: string } | undefined;

/** Whether the installed libraries are the pinned ones (and have the internals the fast path relies on). */
export function fastPathSupport(): { readonly ok: boolean; readonly reason: string } {
  if (cached !== undefined) return cached;
  const problems: string[] = [];
  for (const [name, pinned] of Object.entries(PINNED_VERSIONS)) {
    const installed = installedVersion(name);
    if (installed !== pinned) problems.push(`${name} is ${installed ?? 'missing'}, the fast path is pinned to ${pinned}`);
  }
  if (problems.length === 0) {
    const xmlCrypto = require('xml-crypto') as Record<'SignedXml' | 'ExclusiveCanonicalization', { prototype: Record<string, unknown> }>;
    const proto = xmlCrypto.SignedXml.prototype;
    for (const method of SIGNED_XML_INTERNALS) if (typeof proto[method] !== 'function') problems.push(`xml-crypto SignedXml has no ${method}()`);
    // original-tree.ts learns where exc-c14n declares namespaces by overriding this method (xml-crypto-document.ts).
    if (typeof xmlCrypto.ExclusiveCanonicalization.prototype['renderNs'] !== 'function') problems.push('xml-crypto ExclusiveCanonicalization has no renderNs()');
  }
  cached = { ok: problems.length === 0, reason: problems.length === 0 ? 'pinned versions installed' : problems.join('; ') };
  return cached;
}
