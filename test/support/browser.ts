/** Debian's Chromium driven by playwright-core, and the shipped example configuration moved into a test's folder. */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { ROOT } from './app.js';

/** Headless, and with every background connection off: the machine's network is closed. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** config/rolegate.yaml on the test's URL, with its database and data folder in `dir`. */
export function shippedConfigYaml(dir: string, url: string): string {
  return fs
    .readFileSync(path.join(ROOT, 'config/rolegate.yaml'), 'utf8')
    .replace('http://localhost:8080', url)
    .replace('port: 8080', 'port: 0')
    .replace('sqlite:./data/rolegate.db', `sqlite:${dir}/rolegate.db`)
    .replace('  trust_proxy: false', `  trust_proxy: false\n  data_dir: ${dir}/data`);
}
