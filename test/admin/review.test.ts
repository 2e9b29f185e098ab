/**
 * The admin surface against what an outside review tried: formula injection through the audit CSV (opened by
 * a real spreadsheet, LibreOffice, with both list separators), a new token's key kept in the session store,
 * revoking the Owner's token as an Administrator, impossible dates, and methods the API does not serve.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell } from '../../src/admin/audit.js';
import { startApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { snapshot } from '../support/db.js';
import type { Browser } from '../support/http.js';
import { PEOPLE, call, errorOf, signedIn, userIdOf } from './support.js';

let app: TestApp;
let owner: Browser;
let admin: Browser;
let admin2: Browser;

beforeAll(async () => {
  app = await startApp();
  owner = await signedIn(app, PEOPLE.OW);
  admin = await signedIn(app, PEOPLE.AD);
  admin2 = await signedIn(app, { email: 'admin2@acme.example', groups: ['LS-Admins'], firstName: 'Second', lastName: 'Admin' });
});
afterAll(async () => {
  await app.close();
});

async function newToken(b: Browser, name: string): Promise<{ id: number; key: string }> {
  const res = await call(app, b, 'POST', '/api/tokens', { body: { name } });
  expect(res.status, res.text).toBe(201);
  return res.json<{ id: number; key: string }>();
}

async function csrfOf(b: Browser): Promise<string> {
  const page = await b.get('/organization/tokens', { accept: 'text/html' });
  const m = /name="csrf" value="([^"]+)"/.exec(page.text);
  if (m?.[1] === undefined) throw new Error('no csrf token on the page');
  return m[1];
}

async function revokedAt(id: number): Promise<unknown> {
  return ((await app.db('api_tokens').where({ id }).first('revoked_at')) as { revoked_at: unknown }).revoked_at;
}

describe('a new token key is shown once and stored nowhere', () => {
  it('the Organization page answers the create form with the key itself; no session row ever holds it', async () => {
    const b = await signedIn(app, PEOPLE.AD);
    const csrf = await csrfOf(b);
    const res = await b.request('POST', '/organization/tokens', {
      headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ csrf, name: 'shown once' }).toString(),
    });
    expect(res.status, res.text).toBe(201);
    const key = /id="copy-value"[^>]*value="(rg_[A-Za-z0-9_-]{43})"/.exec(res.text)?.[1] ?? /value="(rg_[A-Za-z0-9_-]{43})"[^>]*id="copy-value"/.exec(res.text)?.[1];
    expect(key, res.text).toBeDefined();
    const sessions = (await app.db('sessions').select('data')) as { data: unknown }[];
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.filter((s) => JSON.stringify(s.data).includes(key ?? '-'))).toEqual([]);
    // The key works, and the next page view does not show it again.
    expect((await call(app, app.browser(), 'GET', '/api/organizations/0', { token: key ?? '', sameOrigin: false })).status).toBe(200);
    expect((await b.get('/organization/tokens', { accept: 'text/html' })).text).not.toContain(key);
  });
});

describe("revoking another member's token", () => {
  it("an Administrator cannot revoke the Owner's token (API and page): 403 ERR_FORBIDDEN, the token stays live", async () => {
    const ownerToken = await newToken(owner, 'owner automation');
    // The page offers the Administrator no Revoke button for it; the Owner sees one.
    expect((await admin.get('/organization/tokens', { accept: 'text/html' })).text).not.toContain(`/organization/tokens/${ownerToken.id}/revoke`);
    expect((await owner.get('/organization/tokens', { accept: 'text/html' })).text).toContain(`/organization/tokens/${ownerToken.id}/revoke`);
    const before = await snapshot(app.db);
    const res = await call(app, admin, 'DELETE', `/api/tokens/${ownerToken.id}`);
    expect([res.status, errorOf(res)]).toEqual([403, 'ERR_FORBIDDEN']);
    // Nor with an Administrator's own token.
    const adminToken = await newToken(admin, 'admin automation');
    const byToken = await call(app, app.browser(), 'DELETE', `/api/tokens/${ownerToken.id}`, { token: adminToken.key, sameOrigin: false });
    expect([byToken.status, errorOf(byToken)]).toEqual([403, 'ERR_FORBIDDEN']);
    // Nor from the Organization page (the refusal is shown as the page's message).
    const page = await admin.request('POST', `/organization/tokens/${ownerToken.id}/revoke`, {
      headers: { origin: app.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: await csrfOf(admin) }).toString(),
    });
    expect(page.status).toBe(302);
    expect((await admin.get('/organization/tokens', { accept: 'text/html' })).text).toContain('ERR_FORBIDDEN');
    expect(await revokedAt(ownerToken.id)).toBeNull();
    expect((await call(app, app.browser(), 'GET', '/api/organizations/0', { token: ownerToken.key, sameOrigin: false })).status).toBe(200);
    const after = await snapshot(app.db);
    expect(after.memberships).toEqual(before.memberships);
    expect((await app.db('audit_events').where({ action: 'token_revoked' }).whereRaw("reason like ?", [`%"token_id":${ownerToken.id},%`])).length).toBe(0);
  });

  it("nor another Administrator's token; the Owner can, and everyone can revoke their own", async () => {
    const peer = await newToken(admin2, 'peer');
    const res = await call(app, admin, 'DELETE', `/api/tokens/${peer.id}`);
    expect([res.status, errorOf(res)]).toEqual([403, 'ERR_FORBIDDEN']);
    expect(await revokedAt(peer.id)).toBeNull();
    expect((await call(app, owner, 'DELETE', `/api/tokens/${peer.id}`)).status).toBe(204);
    expect(await revokedAt(peer.id)).not.toBeNull();
    const own = await newToken(admin, 'own');
    expect((await call(app, admin, 'DELETE', `/api/tokens/${own.id}`)).status).toBe(204);
    const ownerOwn = await newToken(owner, 'owner own');
    expect((await call(app, owner, 'DELETE', `/api/tokens/${ownerOwn.id}`)).status).toBe(204);
  });

  it("an Administrator may revoke the token of a member now below Administrator", async () => {
    const b = await signedIn(app, { email: 'demoted@acme.example', groups: ['LS-Admins'] });
    const t = await newToken(b, 'before demotion');
    // The IdP now asserts Managers: the next login demotes them (their token stays, dead while they are a Manager).
    await signedIn(app, { email: 'demoted@acme.example', groups: ['LS-Managers'] });
    expect(((await app.db('memberships').where({ user_id: await userIdOf(app, 'demoted@acme.example') }).first('role')) as { role: string }).role).toBe('MA');
    expect((await call(app, admin, 'DELETE', `/api/tokens/${t.id}`)).status).toBe(204);
  });
});

describe('dates in audit queries', () => {
  it('an impossible date or time is 400 ERR_BAD_REQUEST, never rolled over into the next month or day', async () => {
    for (const q of ['until=2026-02-30', 'since=2026-02-29', 'until=2026-04-31', 'since=2026-13-01', 'since=2026-00-10', 'until=2026-01-00', 'until=2026-01-31T24:00', 'until=2026-01-31T23:60', 'since=2026-01-31T10:00:61Z', 'since=2026-01-31T10:00+25:00']) {
      const res = await call(app, admin, 'GET', `/api/organizations/0/audit?${q}`);
      expect([q, res.status, errorOf(res)]).toEqual([q, 400, 'ERR_BAD_REQUEST']);
    }
    for (const q of ['until=2024-02-29', 'since=2026-01-31T23:59:59Z', 'until=2026-12-31T10:00+02:00', 'since=2000-02-29']) {
      const res = await call(app, admin, 'GET', `/api/organizations/0/audit?${q.replace('+', '%2B')}`);
      expect([q, res.status]).toEqual([q, 200]);
    }
  });

  it('the Organization page says so instead of filtering by a rolled-over date', async () => {
    const res = await admin.get('/organization/audit?until=2026-02-30', { accept: 'text/html' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('ERR_BAD_REQUEST');
  });
});

describe('methods the API does not serve', () => {
  it('a known path with another method is a JSON 405 ERR_METHOD_NOT_ALLOWED naming the allowed ones', async () => {
    const res = await call(app, admin, 'PUT', '/api/organizations/0/memberships', { body: {} });
    expect([res.status, errorOf(res)]).toEqual([405, 'ERR_METHOD_NOT_ALLOWED']);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('allow')).toContain('PATCH');
  });

  it('TRACE and PROPFIND are a JSON 501 ERR_NOT_IMPLEMENTED', async () => {
    for (const method of ['PROPFIND', 'MKCOL']) {
      const res = await call(app, admin, method, '/api/organizations/0/memberships');
      expect([method, res.status, errorOf(res)]).toEqual([method, 501, 'ERR_NOT_IMPLEMENTED']);
    }
    // fetch refuses to send TRACE; a raw request does.
    const { request } = await import('node:http');
    const url = new URL(`${app.url}/api/organizations/0/memberships`);
    const trace = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'TRACE', headers: { accept: 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect([trace.status, (JSON.parse(trace.body) as { error: string }).error]).toEqual([501, 'ERR_NOT_IMPLEMENTED']);
  });
});

/** Values the review wrote into fields that reach the export (group names, reasons, names). */
const HOSTILE = [
  'Eve;=1+1;',
  "x;=cmd|' /C calc'!A0;",
  'x,=1+1',
  '=HYPERLINK("http://evil.example")',
  ' =1+1',
  '   +1+1',
  '\u00a0=1+1',
  '\u3000=1+1',
  '\u2007-1+1',
  '\u200b=1+1',
  '\t=1+1',
  '\r=1+1',
  '\uff1d1+1',
  '\uff0b1+1',
  '\uff0d1+1',
  '\uff20SUM(1;2)',
  ' \uff1dSUM(1,2)',
  '@SUM(1,2)',
  '-2+3',
  '+2+3',
  'quote " then ;=1+1',
  'line\n=1+1',
  'tab\t=1+1',
  'a;"=1+1"',
  '"=1+1',
  '=SUM(1,2)',
  'a; @SUM(1)',
];

describe('csvCell', () => {
  it('prefixes a formula start after any leading whitespace, in ASCII and fullwidth forms, and after a separator inside the value', () => {
    for (const v of HOSTILE.filter((h) => !/^(Eve|x|quote|line|tab|a;|")/.test(h))) expect([v, csvCell(v).startsWith("'")]).toEqual([v, true]);
    expect(csvCell('Eve;=1+1;')).toBe("Eve;'=1+1;");
    expect(csvCell('x, \u00a0\uff1d1')).toBe("x,' \u00a0\uff1d1");
    expect(csvCell('line\n@x')).toBe("line\n'@x");
    for (const v of ['Eve', 'a=b', 'a;b', '2026-01-01T00:00:00.000Z', '', 'user@acme.example', 'LS-Admins (organizations[0].roles.LS-Admins)']) expect(csvCell(v)).toBe(v);
  });
});

// A real spreadsheet opens the export: LibreOffice Calc, headless, with `,` and with `;` as the separator
// (the list separator in many locales). No cell of either reading may be a formula.
describe('the audit CSV opened by LibreOffice Calc', () => {
  const soffice = ['soffice', 'libreoffice'].find((bin) => {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });

  it('no cell is a formula, with either separator; the hostile values survive as text', { timeout: 120_000 }, async () => {
    expect(soffice, 'LibreOffice (Debian libreoffice-calc) is needed: .ci/run installs it').toBeDefined();
    const rows = HOSTILE.map((text, i) => ({ at: new Date(), organization_id: 1, actor: 'config', action: 'csv_probe', outcome: 'ok', subject_email: i % 2 === 0 ? text : null, reason: JSON.stringify({ text }) }));
    await app.db('audit_events').insert(rows);
    const res = await call(app, admin, 'GET', '/api/organizations/0/audit?format=csv&action=csv_probe');
    expect(res.status).toBe(200);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolegate-csv-'));
    try {
      const csv = path.join(dir, 'audit.csv');
      fs.writeFileSync(csv, res.text);
      const formulas: Record<string, string[]> = {};
      const texts: Record<string, string> = {};
      for (const [name, separator] of [['comma', 44], ['semicolon', 59]] as const) {
        const out = path.join(dir, name);
        // Filter options: separator, text delimiter `"`, UTF-8 (76), from line 1. Its own profile, so parallel
        // runs do not share LibreOffice's lock.
        execFileSync(soffice ?? 'soffice', [`-env:UserInstallation=file://${path.join(dir, `profile-${name}`)}`, '--headless', `--infilter=CSV:${separator},34,76,1`, '--convert-to', 'fods', '--outdir', out, csv], { stdio: 'pipe', timeout: 90_000 });
        const fods = fs.readFileSync(path.join(out, 'audit.fods'), 'utf8');
        expect(fods).toContain('<table:table-row');
        formulas[name] = fods.match(/table:formula="[^"]*"/g) ?? [];
        texts[name] = fods.replace(/<[^>]+>/g, '').replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      }
      expect(formulas).toEqual({ comma: [], semicolon: [] });
      // Read with the right separator, each hostile reason is one text cell, kept after the neutralising `'`.
      expect(texts['comma']).toContain("'=HYPERLINK(\"http://evil.example\")");
      expect(texts['comma']).toContain("Eve;'=1+1;");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
