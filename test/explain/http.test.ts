import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from '../support/app.js';
import type { Browser } from '../support/http.js';
import { PEOPLE, call, signedIn, userIdOf } from '../admin/support.js';

let app: TestApp;
let admin: Browser;
let reviewer: Browser;

beforeAll(async () => {
  app = await startApp();
  admin = await signedIn(app, PEOPLE.AD);
  reviewer = await signedIn(app, PEOPLE.RE);
});
afterAll(async () => {
  await app.close();
});

describe('GET /api/organizations/:id/memberships/:user_id/explain', () => {
  it('gives an Administrator the trace of a member signed in through SAML: groups, assertion, rules, no change', async () => {
    const id = await userIdOf(app, PEOPLE.RE.email);
    const res = await call(app, admin, 'GET', `/api/organizations/1/memberships/${id}/explain`);
    expect(res.status, res.text).toBe(200);
    const t = res.json<{
      member: { email: string };
      groups: { lastAsserted: string[]; assertionId: string | null; assertedAt: string | null };
      organizationRules: { group: string; decisive: boolean }[];
      decision: { org: { role: string } };
      changes: unknown[];
    }>();
    expect(t.member.email).toBe(PEOPLE.RE.email);
    expect(t.groups.lastAsserted).toEqual(PEOPLE.RE.groups);
    expect(t.groups.assertionId).toMatch(/^_/);
    expect(t.organizationRules.filter((r) => r.decisive).map((r) => r.group)).toEqual(['LS-Reviewers']);
    expect(t.decision.org.role).toBe('RE');
    expect(t.changes).toEqual([]);
  });

  it('answers text for Accept: text/plain', async () => {
    const id = await userIdOf(app, PEOPLE.RE.email);
    const res = await call(app, admin, 'GET', `/api/organizations/1/memberships/${id}/explain`, { headers: { accept: 'text/plain' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain(`Member ${PEOPLE.RE.email}`);
    expect(res.text).toContain('✔ decisive  LS-Reviewers → Reviewer');
  });

  it('is refused to a member who is not Owner or Administrator, and to nobody signed in', async () => {
    const id = await userIdOf(app, PEOPLE.AD.email);
    expect((await call(app, reviewer, 'GET', `/api/organizations/1/memberships/${id}/explain`)).status).toBe(403);
    expect((await call(app, app.browser(), 'GET', `/api/organizations/1/memberships/${id}/explain`)).status).toBe(401);
  });

  it('an unknown member is 404', async () => {
    expect((await call(app, admin, 'GET', '/api/organizations/1/memberships/999999/explain')).status).toBe(404);
  });
});
