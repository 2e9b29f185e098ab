/**
 * The OpenAPI 3 document of the admin API, written by hand and kept true by test/admin/openapi.test.ts
 * (every admin route of the router is here with its method, and nothing else is). `operationId` is the
 * route's name in the router and in access.ts.
 */
import { ORDERING_NAMES } from './params.js';

const ORDERING_DOC = ORDERING_NAMES.join(', ');
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const ok = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
// Label Studio's views parse JSON, forms and multipart alike; so does rolegate (fields only, no files).
const jsonBody = (schema: unknown) => ({
  required: true,
  content: { 'application/json': { schema }, 'application/x-www-form-urlencoded': { schema }, 'multipart/form-data': { schema } },
});
const orgId = { name: 'id', in: 'path', required: true, description: 'Organization id; 0 = the caller’s organization', schema: { type: 'integer', minimum: 0 } };
const userId = { name: 'user_id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const page = [
  { name: 'page', in: 'query', schema: { oneOf: [{ type: 'integer', minimum: 1 }, { type: 'string', enum: ['last'] }], default: 1 }, description: 'A page number or `last`; anything else, or a page past the end, is 404 (ERR_NOT_FOUND, "Invalid page")' },
  { name: 'page_size', in: 'query', schema: { type: 'integer', default: 20 }, description: '-1 = everything on one page; no maximum; a value that is not a positive integer means the default (20), as Django REST framework reads it' },
];
const unknownParam = error('A query parameter the operation does not apply (ERR_UNKNOWN_PARAMETER, named in validation_errors), or a bad value (ERR_BAD_REQUEST)');
const common = {
  '401': error('Not signed in, or the token is unknown, revoked or its member has lost access (ERR_UNAUTHENTICATED)'),
  '403': error('Not an Owner or Administrator (ERR_FORBIDDEN), or a cross-origin cookie request (ERR_CSRF)'),
};
const readCommon = {
  '401': common['401'],
  '403': error('Not an Owner, Administrator or Manager (ERR_FORBIDDEN)'),
};
const assignResponses = {
  '200': ok('The updated membership', ref('Membership')),
  '400': error('ERR_BAD_REQUEST, ERR_INVALID_ROLE, ERR_LAST_ADMIN (the Owner, or the last Owner/Administrator), ERR_MEMBER_INACTIVE (only an active member becomes Owner), ERR_TRANSFER_NOT_CONFIRMED (role OW without transfer_ownership: true)'),
  '401': common['401'],
  '403': error('ERR_FORBIDDEN (not an Owner or Administrator; only the Owner makes an Owner or changes the Owner), ERR_CSRF, ERR_ROLE_MANAGED_BY_IDP (names the group and rule), ERR_DEACTIVATED_BY_IDP (SCIM deactivated the member: the IdP reactivates)'),
  '404': error('No such member'),
};
const assignBody = jsonBody({
  type: 'object',
  required: ['user_id', 'role'],
  properties: {
    user_id: { type: 'integer' },
    role: { type: 'string', enum: ['OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'DI'] },
    transfer_ownership: { type: 'boolean', description: 'Required (true) with role OW: making someone Owner transfers ownership and makes the caller Administrator' },
  },
});
const paged = (item: string) => ({
  type: 'object',
  required: ['count', 'next', 'previous', 'results'],
  properties: { count: { type: 'integer' }, next: { type: 'string', nullable: true }, previous: { type: 'string', nullable: true }, results: { type: 'array', items: ref(item) } },
});
const orgRole = { type: 'string', enum: ['OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'DI'] };
// Label Studio's RoleSourceEnum; rolegate writes saml, manual (the Organization page, the YAML's Owner) and api.
const roleSource = { type: 'string', enum: ['manual', 'saml', 'scim', 'ldap', 'api', 'billing'] };

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'rolegate admin API',
    version: '1',
    description:
      'Label Studio–compatible organizations & memberships API. Authenticate with `Authorization: Token <key>`, `Authorization: Bearer <access token>` (POST /api/token/refresh) or a browser session (state-changing cookie requests must be same-origin or carry X-CSRF-Token). Owners and Administrators may call it; Managers may read the member list and users. Refusals are 400/403/405, never 409 (the Label Studio SDK retries 409). Bodies may be JSON, form-encoded or multipart. Errors carry Label Studio\'s fields (detail, status_code, validation_errors) and rolegate\'s stable code.',
  },
  components: {
    securitySchemes: {
      token: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <key>` (scheme case-insensitive)' },
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from POST /api/token/refresh (5 minutes)' },
      session: { type: 'apiKey', in: 'cookie', name: 'rolegate.sid' },
    },
    schemas: {
      Error: {
        type: 'object',
        description: "Label Studio's error body plus rolegate's stable code",
        required: ['id', 'status_code', 'detail', 'code', 'error'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          status_code: { type: 'integer' },
          detail: { type: 'string' },
          exc_info: { type: 'string', nullable: true },
          validation_errors: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Per field or parameter, when the error names them' },
          code: { type: 'string', example: 'ERR_ROLE_MANAGED_BY_IDP' },
          error: { type: 'string', description: 'The same as code (older rolegate clients read this)' },
        },
      },
      User: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          email: { type: 'string' },
          first_name: { type: 'string' },
          last_name: { type: 'string' },
          username: { type: 'string' },
          initials: { type: 'string' },
          avatar: { type: 'string', nullable: true },
          phone: { type: 'string' },
          last_activity: { type: 'string', format: 'date-time', nullable: true },
          date_joined: { type: 'string', format: 'date-time' },
          active_organization: { type: 'integer' },
          allow_newsletters: { type: 'boolean' },
          lse_fields: { type: 'object', properties: { invite_activated: { type: 'boolean' } } },
          org_membership: { type: 'array', items: { type: 'object', properties: { organization_id: { type: 'integer' }, role: orgRole, active: { type: 'boolean' } } } },
        },
      },
      Invite: { type: 'object', properties: { token: { type: 'string', nullable: true, description: 'Always null: the link is the SSO login and carries no secret' }, invite_url: { type: 'string' } } },
      Organization: { type: 'object', properties: { id: { type: 'integer' }, title: { type: 'string' }, contact_info: { type: 'string' }, created_at: { type: 'string', format: 'date-time' } } },
      OrganizationDetail: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          title: { type: 'string' },
          contact_info: { type: 'string' },
          created_at: { type: 'string', format: 'date-time' },
          default_role: orgRole,
          role_management: { type: 'string', enum: ['idp', 'manual'] },
          projects: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, title: { type: 'string' } } } },
        },
      },
      ManagedByIdp: {
        type: 'object',
        nullable: true,
        description: 'The mapped group and rule that own this role (the IdP manages it); null when an admin may set it',
        properties: { group: { type: 'string' }, rule: { type: 'string' }, line: { type: 'integer' }, role: { type: 'string' } },
      },
      Membership: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          organization: { type: 'integer' },
          role: orgRole,
          role_source: roleSource,
          tags: { type: 'array', items: {}, description: 'Always empty: rolegate has no member tags' },
          created_projects: { type: 'array', nullable: true, items: {}, description: 'null unless contributed_to_projects=true; then empty (rolegate records no project authorship)' },
          contributed_to_projects: { type: 'array', nullable: true, items: {}, description: 'null unless contributed_to_projects=true; then empty (rolegate records no annotations)' },
          is_deleted: { type: 'boolean' },
          managed_by_idp: ref('ManagedByIdp'),
          user: ref('User'),
        },
      },
      MembershipDetail: {
        type: 'object',
        description: "Label Studio's OrganizationMember (user is the user id) plus rolegate's member, projects and explain",
        properties: {
          user: { type: 'integer' },
          organization: { type: 'integer' },
          role: orgRole,
          created_at: { type: 'string', format: 'date-time' },
          annotations_count: { type: 'integer', description: 'Always 0: rolegate records no annotations' },
          contributed_projects_count: { type: 'integer', description: 'Always 0' },
          created_projects: { type: 'array', nullable: true, items: {} },
          contributed_to_projects: { type: 'array', nullable: true, items: {} },
          role_source: roleSource,
          updated_at: { type: 'string', format: 'date-time' },
          member: ref('Membership'),
          projects: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, project: { type: 'integer' }, title: { type: 'string' }, role: { type: 'string' }, role_source: roleSource } } },
          explain: { type: 'object', description: 'Why the member holds this role: the stored reason, last asserted groups, the owning rule' },
        },
      },
      ProjectRole: { type: 'object', properties: { id: { type: 'integer' }, project: { type: 'integer' }, user: { type: 'integer' }, role: { type: 'string' }, role_source: { type: 'string' } } },
      AuditEvent: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          time: { type: 'string', format: 'date-time' },
          actor: { type: 'object', properties: { type: { type: 'string', enum: ['member', 'saml', 'scim', 'config', 'cli', 'other'] }, user_id: { type: 'integer', nullable: true }, display: { type: 'string' } } },
          subject: { type: 'object', nullable: true, properties: { user_id: { type: 'integer', nullable: true }, display: { type: 'string' } } },
          action: { type: 'string' },
          outcome: { type: 'string' },
          error_code: { type: 'string', nullable: true },
          before: { type: 'string', nullable: true },
          after: { type: 'string', nullable: true },
          reason: {},
          config_revision: { type: 'string', nullable: true },
          assertion_id: { type: 'string', nullable: true },
          ip: { type: 'string', nullable: true },
        },
      },
      Token: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          name: { type: 'string' },
          prefix: { type: 'string' },
          user: { type: 'integer' },
          created_by: { type: 'string' },
          created_at: { type: 'string', format: 'date-time' },
          last_used_at: { type: 'string', format: 'date-time', nullable: true },
          revoked_at: { type: 'string', format: 'date-time', nullable: true },
        },
      },
    },
  },
  security: [{ token: [] }, { bearer: [] }, { session: [] }],
  paths: {
    '/api/openapi.json': {
      get: { operationId: 'openapi', summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3 document' } } },
    },
    '/api/current-user/whoami': {
      get: {
        operationId: 'whoami',
        summary: 'The caller (session, Token or Bearer), with Label Studio’s username, active_organization and org_membership',
        security: [{ token: [] }, { bearer: [] }, { session: [] }],
        responses: { '200': ok('The caller', ref('User')), '400': unknownParam, '401': error('Not signed in, or a bad token (ERR_UNAUTHENTICATED)') },
      },
    },
    '/api/token/refresh': {
      post: {
        operationId: 'api-token-refresh',
        summary: 'Label Studio’s personal-access-token exchange: an API token key as `refresh` → a 5-minute access token for `Authorization: Bearer`',
        security: [],
        requestBody: jsonBody({ type: 'object', required: ['refresh'], properties: { refresh: { type: 'string' } } }),
        responses: {
          '200': ok('The access token', { type: 'object', properties: { access: { type: 'string' }, expires_in: { type: 'integer', example: 300 } } }),
          '400': error('No refresh field (ERR_BAD_REQUEST)'),
          '401': error('Unknown or revoked refresh token, or its member has lost access (ERR_UNAUTHENTICATED)'),
        },
      },
    },
    '/api/organizations': {
      get: {
        operationId: 'api-organizations',
        summary: 'Organizations the caller belongs to (a plain array)',
        parameters: [{ name: 'ordering', in: 'query', schema: { type: 'string', enum: ['id', 'title', 'created_at', 'contact_info', '-id', '-title', '-created_at', '-contact_info'] } }],
        responses: { '200': ok('Organizations', { type: 'array', items: ref('Organization') }), '400': unknownParam, ...common },
      },
    },
    '/api/organizations/{id}': {
      get: { operationId: 'api-organization', summary: 'One organization', parameters: [orgId], responses: { '200': ok('Organization', ref('OrganizationDetail')), '400': unknownParam, ...common, '404': error('Not the caller’s organization') } },
    },
    '/api/organizations/{id}/memberships': {
      get: {
        operationId: 'api-memberships',
        summary: 'List members (paginated; Owners, Administrators and Managers). Any other query parameter is refused with 400, never ignored',
        parameters: [
          orgId,
          ...page,
          { name: 'search', in: 'query', schema: { type: 'string' }, description: 'Matches email, first and last name' },
          { name: 'role', in: 'query', schema: { type: 'string' }, description: 'One code or a comma-separated list (OW, AD, MA, RE, AN, NO, DI)', example: 'AN,RE' },
          { name: 'ordering', in: 'query', schema: { type: 'string', default: 'user__username' }, description: `A comma list of ${ORDERING_DOC} (prefix - for descending); an unknown field is 400` },
          { name: 'is_deleted', in: 'query', schema: { type: 'boolean', default: false }, description: 'true lists deleted members instead of live ones (true/True/1/false/False/0…)' },
          { name: 'active', in: 'query', schema: { type: 'boolean', default: false }, description: 'true leaves out Not Activated and Deactivated members' },
          { name: 'scope', in: 'query', schema: { type: 'string', enum: ['accessible', 'all'], default: 'accessible' }, description: 'For Managers: accessible = members of the Manager’s projects (and the Manager); all = everyone' },
          { name: 'contributed_to_projects', in: 'query', schema: { type: 'boolean', default: false }, description: 'Adds created_projects and contributed_to_projects (empty lists: rolegate records no annotations)' },
          { name: 'exclude_project_id', in: 'query', schema: { type: 'integer' }, description: 'Leaves out the project’s members and Owners/Administrators (they reach every project); an unknown project is 400' },
          { name: 'user__last_activity__gte', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'Last sign-in at or after (ISO 8601; naive = UTC); members who never signed in do not match' },
          { name: 'user__last_activity__lte', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'Last sign-in at or before; members who never signed in do not match' },
        ],
        responses: { '200': ok('A page of members', paged('Membership')), '400': error('A parameter rolegate does not apply, named (ERR_UNKNOWN_PARAMETER: tags, user_type, exclude_workspace_id, misspellings), or a bad value (ERR_BAD_REQUEST, ERR_INVALID_ROLE)'), ...readCommon, '404': error('No such organization, or an invalid page') },
      },
      patch: {
        operationId: 'api-memberships-patch',
        summary: 'Assign an organization role (as the Label Studio SDK sends it)',
        parameters: [orgId],
        requestBody: assignBody,
        responses: assignResponses,
      },
      post: {
        operationId: 'api-memberships-post',
        summary: 'Assign an organization role (as the Label Studio docs describe it); same as PATCH',
        parameters: [orgId],
        requestBody: assignBody,
        responses: assignResponses,
      },
    },
    '/api/organizations/{id}/memberships/transfer-ownership': {
      post: {
        operationId: 'api-ownership-transfer',
        summary: 'The Owner makes an active member Owner and becomes Administrator',
        parameters: [orgId],
        requestBody: jsonBody({ type: 'object', required: ['user_id'], properties: { user_id: { type: 'integer' } } }),
        responses: { ...assignResponses, '200': ok('The new Owner', ref('Membership')) },
      },
    },
    '/api/organizations/{id}/memberships/{user_id}': {
      get: {
        operationId: 'api-membership',
        summary: 'One member: Label Studio’s OrganizationMember, plus the membership, project roles and the explain trace',
        parameters: [orgId, userId, { name: 'contributed_to_projects', in: 'query', schema: { type: 'boolean', default: false } }],
        responses: { '200': ok('Member', ref('MembershipDetail')), '400': unknownParam, ...readCommon, '404': error('No such member') },
      },
      delete: {
        operationId: 'api-membership-delete',
        summary: 'Soft delete: access ends, personal data scrubbed, history shows "Deleted User"',
        parameters: [orgId, userId],
        responses: {
          '204': { description: 'Deleted' },
          '400': error('ERR_LAST_ADMIN (the Owner, or the last Owner/Administrator)'),
          ...common,
          '404': error('No such member'),
          '405': error('ERR_CANNOT_DELETE_SELF (Label Studio’s "User cannot soft delete self")'),
        },
      },
    },
    '/api/organizations/{id}/memberships/{user_id}/explain': {
      get: {
        operationId: 'api-membership-explain',
        summary: 'Why the member holds their roles: groups last asserted and when, each rule matched or not, the resulting roles, what a login now would change. JSON, or text with Accept: text/plain',
        parameters: [orgId, userId],
        responses: { '200': { description: 'The explain trace' }, '400': unknownParam, ...common, '404': error('No such member') },
      },
    },
    '/api/organizations/{id}/invites': {
      post: {
        operationId: 'api-invites',
        summary: 'Invite: a Not Activated member and the link to sign in; their first SSO login attaches to it',
        parameters: [orgId],
        requestBody: jsonBody({ type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' } } }),
        responses: {
          '201': ok('The invited member and the link', { allOf: [ref('Membership'), { type: 'object', properties: { invite_url: { type: 'string' } } }] }),
          '400': error('ERR_BAD_REQUEST, ERR_MEMBER_EXISTS'),
          ...common,
        },
      },
    },
    '/api/invite': {
      get: { operationId: 'api-invite-link', summary: 'Label Studio’s invite link: here the organization’s SSO login', responses: { '200': ok('The link', ref('Invite')), '400': unknownParam, ...common } },
    },
    '/api/invite/reset-token': {
      post: { operationId: 'api-invite-reset', summary: 'Nothing to reset (the link has no secret): the same link', responses: { '201': ok('The link', ref('Invite')), ...common } },
    },
    '/api/invite/send-email': {
      post: {
        operationId: 'api-invite-send',
        summary: 'Invite several addresses with a role (no e-mail is sent; each becomes an invited member, then gets the role unless NO)',
        requestBody: jsonBody({ type: 'object', required: ['emails', 'role'], properties: { emails: { type: 'array', items: { type: 'string', format: 'email' } }, role: orgRole, projects: { type: 'array', items: { type: 'integer' }, description: 'Must be empty' }, workspaces: { type: 'array', items: { type: 'integer' }, description: 'Must be empty' } } }),
        responses: {
          '200': ok('The invited members and the link', { allOf: [ref('Invite'), { type: 'object', properties: { invited: { type: 'array', items: ref('Membership') } } }] }),
          '400': error('ERR_BAD_REQUEST, ERR_INVALID_ROLE (OW cannot be invited), ERR_MEMBER_EXISTS (nothing is created), ERR_UNKNOWN_PARAMETER (projects, workspaces)'),
          ...common,
        },
      },
    },
    '/api/invite/revoke': {
      post: {
        operationId: 'api-invite-revoke',
        summary: 'Revoke an unused invitation: the pending member (Not Activated, never signed in) is deleted',
        requestBody: jsonBody({ type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' } } }),
        responses: { '204': { description: 'Revoked' }, '400': error('Not a pending invitation (ERR_BAD_REQUEST)'), ...common, '404': error('No member with this email') },
      },
    },
    '/api/users': {
      get: {
        operationId: 'api-users',
        summary: 'Label Studio’s users list: the organization’s live members as users (a plain array)',
        parameters: [{ name: 'ordering', in: 'query', schema: { type: 'string', default: 'username' } }],
        responses: { '200': ok('Users', { type: 'array', items: ref('User') }), '400': unknownParam, ...readCommon },
      },
    },
    '/api/users/{id}': {
      get: {
        operationId: 'api-user',
        summary: 'One user of the organization',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '200': ok('User', ref('User')), '400': unknownParam, ...readCommon, '404': error('No such user in this organization') },
      },
    },
    '/api/organizations/{id}/audit': {
      get: {
        operationId: 'api-audit',
        summary: 'Audit events, newest first; format=csv streams a CSV export of every matching event',
        parameters: [
          orgId,
          ...page,
          { name: 'user_id', in: 'query', schema: { type: 'integer' }, description: 'Events where this member was the subject or the actor' },
          { name: 'action', in: 'query', schema: { type: 'string' }, example: 'role_change' },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'], default: 'json' } },
        ],
        responses: {
          '200': { description: 'A page of events, or CSV', content: { 'application/json': { schema: paged('AuditEvent') }, 'text/csv': { schema: { type: 'string' } } } },
          '400': unknownParam,
          ...common,
          '404': error('No such organization, or a page past the end'),
        },
      },
    },
    '/api/projects/roles': {
      get: {
        operationId: 'api-project-roles-all',
        summary: 'Project roles in the caller’s organization',
        parameters: [{ name: 'project', in: 'query', schema: { type: 'integer' } }],
        responses: { '200': ok('Project roles', { type: 'array', items: ref('ProjectRole') }), '400': unknownParam, ...common, '404': error('No such project') },
      },
      post: {
        operationId: 'api-project-roles-create',
        summary: 'Add or change a member’s project role (RE or AN)',
        requestBody: jsonBody({ type: 'object', required: ['project', 'user', 'role'], properties: { project: { type: 'integer' }, user: { type: 'integer' }, role: { type: 'string', enum: ['RE', 'AN'] } } }),
        responses: {
          '200': ok('Changed', ref('ProjectRole')),
          '201': ok('Added', ref('ProjectRole')),
          '400': error('ERR_BAD_REQUEST, ERR_INVALID_ROLE, ERR_MEMBER_INACTIVE'),
          '401': common['401'],
          '403': error('ERR_FORBIDDEN, ERR_CSRF, ERR_ROLE_MANAGED_BY_IDP'),
          '404': error('No such project or member'),
        },
      },
    },
    '/api/projects/{id}/roles': {
      get: {
        operationId: 'api-project-roles',
        summary: 'Roles in one project',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '200': ok('Project roles', { type: 'array', items: ref('ProjectRole') }), '400': unknownParam, ...common, '404': error('No such project') },
      },
    },
    '/api/projects/roles/{id}': {
      delete: {
        operationId: 'api-project-roles-delete',
        summary: 'Remove a project role',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '204': { description: 'Removed' }, '401': common['401'], '403': error('ERR_FORBIDDEN, ERR_CSRF, ERR_ROLE_MANAGED_BY_IDP'), '404': error('No such project role') },
      },
    },
    '/api/tokens': {
      get: {
        operationId: 'api-tokens',
        summary: 'API tokens of the organization (never the keys)',
        parameters: [{ name: 'include_revoked', in: 'query', schema: { type: 'boolean', default: false } }],
        responses: { '200': ok('Tokens', { type: 'array', items: ref('Token') }), '400': unknownParam, ...common },
      },
      post: {
        operationId: 'api-tokens-create',
        summary: 'Create a token for the signed-in member; the key is in this response only (session only, not with a token)',
        requestBody: jsonBody({ type: 'object', properties: { name: { type: 'string', maxLength: 100 } } }),
        responses: { '201': ok('The token with its key', { allOf: [ref('Token'), { type: 'object', properties: { key: { type: 'string' } } }] }), ...common },
      },
    },
    '/api/tokens/{id}': {
      delete: {
        operationId: 'api-tokens-delete',
        summary: 'Revoke a token',
        description: "The Owner may revoke any token, everyone their own, an Administrator the tokens of members below Administrator (not the Owner's nor another Administrator's: 403 ERR_FORBIDDEN).",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '204': { description: 'Revoked' }, ...common, '404': error('No such live token') },
      },
    },
  },
} as const;
