import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The SimpleSAMLphp interop suite needs PHP: `npm run test:interop` (vitest.interop.config.ts).
    exclude: [...configDefaults.exclude, 'test/interop/**'],
    // Real servers, real SQLite files, real RSA signatures: give slow CI machines room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // `.only` left in a file fails the run instead of silently skipping the rest.
    allowOnly: false,
    pool: 'forks',
    // Every SAML Response any test posts is validated by both the fast path and stock node-saml; a
    // difference in decision, error code or login fails that test (src/saml/provider.ts, "differential").
    env: { ROLEGATE_SAML_DIFFERENTIAL: '1' },
  },
});
