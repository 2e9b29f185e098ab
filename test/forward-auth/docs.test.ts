/** The snippets docs/forward-auth.md shows are the very files the proxy tests render and run. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/app.js';
import { TEMPLATES } from '../support/proxies.js';

const page = fs.readFileSync(path.join(ROOT, 'docs/forward-auth.md'), 'utf8');

describe('docs/forward-auth.md', () => {
  for (const [file, fence] of [
    ['nginx.conf', 'nginx'],
    ['Caddyfile', 'caddyfile'],
    ['traefik.yml', 'yaml'],
  ] as const) {
    it(`shows docs/forward-auth/${file} verbatim`, () => {
      const text = fs.readFileSync(path.join(TEMPLATES, file), 'utf8');
      expect(page).toContain('```' + fence + '\n' + text + '```');
    });
  }

  it('is linked from the README docs map', () => {
    expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('(docs/forward-auth.md)');
  });
});
