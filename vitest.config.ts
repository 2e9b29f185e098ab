import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, real SQLite files, real RSA signatures: give slow CI machines room.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // `.only` left in a file fails the run instead of silently skipping the rest.
    allowOnly: false,
    pool: 'forks',
  },
});
