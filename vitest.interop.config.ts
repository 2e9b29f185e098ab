import { defineConfig } from 'vitest/config';

/**
 * `npm run test:interop`: rolegate against a real SimpleSAMLphp IdP in headless Chromium. Separate from the
 * default suite (vitest.config.ts excludes test/interop/**) because it needs PHP and the Debian
 * simplesamlphp package (.ci/run installs them).
 */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    allowOnly: false,
    pool: 'forks',
    // One IdP, one browser, one app per file, steps in order.
    fileParallelism: false,
    // SimpleSAMLphp's own Responses through both the fast path and stock node-saml (src/saml/provider.ts).
    env: { ROLEGATE_SAML_DIFFERENTIAL: '1' },
  },
});
