export { createServiceProvider } from './provider.js';
export type { IdpTrust } from './node-saml-options.js';
export type { AuthnRequestRedirect, SamlServiceProvider, VerifiedLogin } from './types.js';
