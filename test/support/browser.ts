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

/**
 * config/rolegate.yaml as shipped, with its database and data folder in `dir`. Port and public URL are left
 * alone: start it with `shippedEnv`, as `PORT=… npm start` would, so the test follows whatever the file says.
 */
export function shippedConfigYaml(dir: string): string {
  return fs
    .readFileSync(path.join(ROOT, 'config/rolegate.yaml'), 'utf8')
    .replace('sqlite:./data/rolegate.db', `sqlite:${dir}/rolegate.db`)
    .replace('  trust_proxy: false', `  trust_proxy: false\n  data_dir: ${dir}/data`);
}

/** The environment of `PORT=<port> npm start`: nothing else that could move the port or the public URL. */
export function shippedEnv(port: number): NodeJS.ProcessEnv {
  return { PORT: String(port), ROLEGATE_PORT: '', ROLEGATE_PUBLIC_URL: '', ROLEGATE_HOST: '' };
}
