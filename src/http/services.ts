/**
 * What the HTTP layer needs from the layers below, as functions already bound to the database by the
 * composition root (app.ts): http/ never imports db/. Each entry is the function of members/, admin/,
 * explain/ or db/ it names, without its database argument.
 */
import type { authenticateAccess, refreshAccessToken } from '../admin/access-tokens.js';
import type { auditCsv, auditPage } from '../admin/audit.js';
import type { listMemberPage } from '../admin/member-list.js';
import type { deleteMember, inviteMember, listMemberships, memberDetail, MemberRow, memberView, setMemberRole } from '../admin/members.js';
import type { assignProjectRole, listRoles, removeProjectRole } from '../admin/projects.js';
import type { authenticateKey, createToken, revokeTokenById, TokenRow } from '../admin/tokens.js';
import type { explainMember } from '../explain/explain.js';
import type { applyLogin, auditRejectedLogin } from '../members/login.js';
import type { whoAmI } from '../members/whoami.js';
import type { ScimService } from '../scim/service.js';
import type { WebhookServices } from '../webhooks/admin.js';
import type { readCurrentMember, readSessionAndMember } from '../forwardauth/member.js';
import type { loadMappingReport, previewOrganizationPlan } from '../plan/report.js';

/** `f` without its first (database) argument. */
type Bound<F> = F extends (db: never, ...args: infer A) => infer R ? (...args: A) => R : never;
/** `applyLogin` without its database and write-path arguments. */
type BoundLogin = typeof applyLogin extends (db: never, writer: never, ...args: infer A) => infer R ? (...args: A) => R : never;

export interface Services {
  /** A cheap round trip to the database (readiness). */
  readonly ping: () => Promise<void>;
  readonly applyLogin: BoundLogin;
  readonly auditRejectedLogin: Bound<typeof auditRejectedLogin>;
  readonly whoAmI: Bound<typeof whoAmI>;
  /** Forward auth: the member behind a session, read fresh on every request. */
  readonly readCurrentMember: Bound<typeof readCurrentMember>;
  readonly readSessionAndMember: Bound<typeof readSessionAndMember>;
  readonly saveAuthnRequest: (r: { id: string; organizationId: number; bindingHash: string; nextPath: string; expiresAt: Date }) => Promise<void>;
  readonly loadSession: (key: string, now: Date) => Promise<Record<string, unknown> | undefined>;
  readonly storeSession: (key: string, data: Record<string, unknown>, expiresAt: Date) => Promise<void>;
  readonly destroySession: (key: string) => Promise<void>;
  /** Single Logout: end the organization's sessions of this NameID (and SessionIndexes); how many ended. */
  readonly destroySamlSessions: (organizationId: number, nameId: string, sessionIndexes: readonly string[]) => Promise<number>;
  readonly organizationCreatedAt: (organizationId: number) => Promise<Date | undefined>;
  readonly findMember: (organizationId: number, userId: number) => Promise<MemberRow | undefined>;
  readonly membersByIds: (organizationId: number, userIds: readonly number[]) => Promise<Map<number, MemberRow>>;
  readonly listMemberships: Bound<typeof listMemberships>;
  readonly memberDetail: Bound<typeof memberDetail>;
  readonly setMemberRole: Bound<typeof setMemberRole>;
  readonly deleteMember: Bound<typeof deleteMember>;
  readonly inviteMember: Bound<typeof inviteMember>;
  readonly listRoles: Bound<typeof listRoles>;
  readonly assignProjectRole: Bound<typeof assignProjectRole>;
  readonly removeProjectRole: Bound<typeof removeProjectRole>;
  readonly auditPage: Bound<typeof auditPage>;
  readonly auditCsv: Bound<typeof auditCsv>;
  readonly explainMember: Bound<typeof explainMember>;
  readonly createToken: Bound<typeof createToken>;
  readonly revokeTokenById: Bound<typeof revokeTokenById>;
  readonly authenticateKey: Bound<typeof authenticateKey>;
  readonly listTokens: (organizationId: number, filter?: { userId?: number; includeRevoked?: boolean }) => Promise<TokenRow[]>;
  // Label Studio compatibility: its member list, users and invites, and the personal-access-token flow.
  readonly listMemberPage: Bound<typeof listMemberPage>;
  readonly memberView: Bound<typeof memberView>;
  /** Ids of the projects (among `projectIds`) where this member holds a role. */
  readonly projectsOfMember: (userId: number, projectIds: readonly number[]) => Promise<number[]>;
  readonly emailTaken: (organizationId: number, email: string) => Promise<boolean>;
  readonly findLiveMemberByEmail: (organizationId: number, email: string) => Promise<MemberRow | undefined>;
  readonly refreshAccessToken: Bound<typeof refreshAccessToken>;
  readonly authenticateAccess: Bound<typeof authenticateAccess>;
  /** The Mapping page: each rule with the members it grants, unmapped groups, groups seen long ago. */
  readonly mappingReport: Bound<typeof loadMappingReport>;
  /** The Mapping page's preview: the plan of another configuration for one organization (writes nothing). */
  readonly previewOrganizationPlan: Bound<typeof previewOrganizationPlan>;
  /** SCIM 2.0 provisioning (src/http/scim.ts). */
  readonly scim: ScimService;
  /** The Organization page's Webhooks view. */
  readonly webhooks: WebhookServices;
}
