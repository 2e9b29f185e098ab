/**
 * The development IdP's history: its default persona "Fred Former" is a member who left, so his name must
 * show the state it promises, Deactivated. A state like that exists only after a mapped role was held and
 * then lost, so on a database where Fred has never signed in, the development IdP records those two
 * sign-ins through the ordinary login path (a role from LS-Annotators, then no groups: demoted to
 * Deactivated, audited as any demotion). Only for organizations on the development IdP with the default
 * personas; never for real IdPs, never twice.
 */
import type { Config, DevPersona, OrganizationConfig } from '../configuration/types.js';
import { defaultPersonas } from '../configuration/defaults.js';
import type { Db } from '../db/connect.js';
import { emailTaken } from '../db/users.js';
import { RolegateError } from '../errors.js';
import { applyLogin } from '../members/login.js';
import type { MemberWriter } from '../members/write.js';
import type { VerifiedLogin } from '../saml/types.js';
import { devIdpEntityId } from './routes.js';

/** The default persona that left: empty groups now, a mapped group before. */
function formerPersona(org: OrganizationConfig): { persona: DevPersona; before: readonly string[] } | undefined {
  if (org.sso.idp.kind !== 'development') return undefined;
  const fred = defaultPersonas({ owner: org.owner }).find((p) => p.firstName === 'Fred' && p.groups !== null && p.groups.length === 0);
  const configured = org.sso.idp.personas.find((p) => p.email === fred?.email && p.groups !== null && p.groups.length === 0);
  // The first group that grants an organization role, so the earlier sign-in really held one.
  const before = org.roles.find((r) => r.role === 'AN')?.group ?? org.roles[0]?.group;
  return fred === undefined || configured === undefined || before === undefined ? undefined : { persona: configured, before: [before] };
}

function login(config: Config, org: OrganizationConfig, p: DevPersona, groups: readonly string[], n: number, now: Date): VerifiedLogin {
  return {
    organizationId: org.id,
    issuer: devIdpEntityId(config, org.id),
    // Not an assertion anyone signed: a name that says where the record came from (and never collides).
    assertionId: `dev-idp-history-${org.id}-${n}-${now.getTime()}`,
    nameId: p.email,
    nameIdFormat: null,
    sessionIndex: null,
    email: p.email,
    firstName: p.firstName,
    lastName: p.lastName,
    groups,
    inResponseTo: null,
    replayCacheUntil: new Date(now.getTime() + 60_000),
  };
}

export async function seedDevelopmentHistory(db: Db, writer: MemberWriter, config: Config): Promise<void> {
  for (const org of config.organizations) {
    const former = formerPersona(org);
    if (former === undefined || (await emailTaken(db, org.id, former.persona.email))) continue;
    const now = new Date();
    const ctx = { now, ip: null, bindingHash: null };
    await applyLogin(db, writer, config, org, login(config, org, former.persona, former.before, 1, now), ctx);
    try {
      await applyLogin(db, writer, config, org, login(config, org, former.persona, [], 2, new Date(now.getTime() + 1)), { ...ctx, now: new Date(now.getTime() + 1) });
    } catch (err) {
      // The demotion to Deactivated is committed, then reported like a refused sign-in.
      if (!(err instanceof RolegateError && err.code === 'ERR_ACCESS_REVOKED')) throw err;
    }
  }
}
