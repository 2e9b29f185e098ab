/**
 * The OpenAPI 3 document of the admin API, written by hand and kept true by test/admin/openapi.test.ts
 * (every admin route of the router is here with its method, and nothing else is). `operationId` is the
 * route's name in the router and in access.ts.
 */
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const ok = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
const jsonBody = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });
const orgId = { name: 'id', in: 'path', required: true, description: 'Organization id; 0 = the caller’s organization', schema: { type: 'integer', minimum: 0 } };
const userId = { name: 'user_id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const page = [
  { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 } },
  { name: 'page_size', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 30 }, description: 'Larger values are clamped to 1000' },
];
const common = {
  '401': error('Not signed in, or the token is unknown, revoked or its member has lost access (ERR_UNAUTHENTICATED)'),
  '403': error('Not an Owner or Administrator (ERR_FORBIDDEN), or a cross-origin cookie request (ERR_CSRF)'),
};
const paged = (item: string) => ({
  type: 'object',
  required: ['count', 'next', 'previous', 'results'],
  properties: { count: { type: 'integer' }, next: { type: 'string', nullable: true }, previous: { type: 'string', nullable: true }, results: { type: 'array', items: ref(item) } },
});
const orgRole = { type: 'string', enum: ['OW', 'AD', 'MA', 'RE', 'AN', 'NO', 'DI'] };

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'rolegate admin API',
    version: '1',
    description:
      'Label Studio–compatible organizations & memberships API. Authenticate with `Authorization: Token <key>` or a browser session (state-changing cookie requests must be same-origin or carry X-CSRF-Token). Only Owners and Administrators may call it.',
  },
  components: {
    securitySchemes: {
      token: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token <key>`' },
      session: { type: 'apiKey', in: 'cookie', name: 'rolegate.sid' },
    },
    schemas: {
      Error: { type: 'object', required: ['error', 'detail'], properties: { error: { type: 'string', example: 'ERR_ROLE_MANAGED_BY_IDP' }, detail: { type: 'string' } } },
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
          role_source: { type: 'string', enum: ['saml', 'manual', 'config'] },
          is_deleted: { type: 'boolean' },
          managed_by_idp: ref('ManagedByIdp'),
          user: {
            type: 'object',
            properties: {
              id: { type: 'integer' },
              email: { type: 'string' },
              first_name: { type: 'string' },
              last_name: { type: 'string' },
              username: { type: 'string' },
              initials: { type: 'string' },
              last_activity: { type: 'string', format: 'date-time', nullable: true },
              date_joined: { type: 'string', format: 'date-time' },
              lse_fields: { type: 'object', properties: { invite_activated: { type: 'boolean' } } },
            },
          },
        },
      },
      MembershipDetail: {
        allOf: [
          ref('Membership'),
          {
            type: 'object',
            properties: {
              projects: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, project: { type: 'integer' }, title: { type: 'string' }, role: { type: 'string' }, role_source: { type: 'string' } } } },
              explain: { type: 'object', description: 'Why the member holds this role: the stored reason, last asserted groups, the owning rule' },
            },
          },
        ],
      },
      ProjectRole: { type: 'object', properties: { id: { type: 'integer' }, project: { type: 'integer' }, user: { type: 'integer' }, role: { type: 'string' }, role_source: { type: 'string' } } },
      AuditEvent: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          time: { type: 'string', format: 'date-time' },
          actor: { type: 'object', properties: { type: { type: 'string', enum: ['member', 'saml', 'config', 'cli', 'other'] }, user_id: { type: 'integer', nullable: true }, display: { type: 'string' } } },
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
  security: [{ token: [] }, { session: [] }],
  paths: {
    '/api/openapi.json': {
      get: { operationId: 'openapi', summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3 document' } } },
    },
    '/api/organizations': {
      get: { operationId: 'api-organizations', summary: 'Organizations the caller belongs to (a plain array)', responses: { '200': ok('Organizations', { type: 'array', items: ref('Organization') }), ...common } },
    },
    '/api/organizations/{id}': {
      get: { operationId: 'api-organization', summary: 'One organization', parameters: [orgId], responses: { '200': ok('Organization', ref('OrganizationDetail')), ...common, '404': error('Not the caller’s organization') } },
    },
    '/api/organizations/{id}/memberships': {
      get: {
        operationId: 'api-memberships',
        summary: 'List members (paginated)',
        parameters: [
          orgId,
          ...page,
          { name: 'search', in: 'query', schema: { type: 'string' }, description: 'Matches email, first and last name' },
          { name: 'role', in: 'query', schema: { type: 'string' }, description: 'One code or a comma-separated list (OW, AD, MA, RE, AN, NO, DI)', example: 'AN,RE' },
          { name: 'ordering', in: 'query', schema: { type: 'string', enum: ['id', 'email', 'first_name', 'last_name', 'role', 'last_activity', 'date_joined', '-id', '-email', '-first_name', '-last_name', '-role', '-last_activity', '-date_joined'] } },
          { name: 'is_deleted', in: 'query', schema: { type: 'boolean', default: false }, description: 'true lists deleted members instead of live ones' },
        ],
        responses: { '200': ok('A page of members', paged('Membership')), '400': error('A bad parameter (ERR_BAD_REQUEST, ERR_INVALID_ROLE)'), ...common, '404': error('No such organization, or a page past the end') },
      },
      patch: {
        operationId: 'api-memberships-patch',
        summary: 'Assign an organization role (as the Label Studio SDK sends it)',
        parameters: [orgId],
        requestBody: jsonBody({ type: 'object', required: ['user_id', 'role'], properties: { user_id: { type: 'integer' }, role: orgRole } }),
        responses: {
          '200': ok('The updated membership', ref('Membership')),
          '400': error('ERR_BAD_REQUEST or ERR_INVALID_ROLE'),
          ...common,
          '404': error('No such member'),
          '409': error('ERR_ROLE_MANAGED_BY_IDP (names the group and rule), ERR_LAST_ADMIN, ERR_MEMBER_INACTIVE'),
        },
      },
      post: {
        operationId: 'api-memberships-post',
        summary: 'Assign an organization role (as the Label Studio docs describe it); same as PATCH',
        parameters: [orgId],
        requestBody: jsonBody({ type: 'object', required: ['user_id', 'role'], properties: { user_id: { type: 'integer' }, role: orgRole } }),
        responses: {
          '200': ok('The updated membership', ref('Membership')),
          '400': error('ERR_BAD_REQUEST or ERR_INVALID_ROLE'),
          ...common,
          '404': error('No such member'),
          '409': error('ERR_ROLE_MANAGED_BY_IDP (names the group and rule), ERR_LAST_ADMIN, ERR_MEMBER_INACTIVE'),
        },
      },
    },
    '/api/organizations/{id}/memberships/{user_id}': {
      get: { operationId: 'api-membership', summary: 'One member with project roles and the explain trace', parameters: [orgId, userId], responses: { '200': ok('Member', ref('MembershipDetail')), ...common, '404': error('No such member') } },
      delete: {
        operationId: 'api-membership-delete',
        summary: 'Soft delete: access ends, personal data scrubbed, history shows "Deleted User"',
        parameters: [orgId, userId],
        responses: { '204': { description: 'Deleted' }, ...common, '404': error('No such member'), '409': error('ERR_LAST_ADMIN (the Owner or the last Owner/Administrator)') },
      },
    },
    '/api/organizations/{id}/memberships/{user_id}/explain': {
      get: {
        operationId: 'api-membership-explain',
        summary: 'Why the member holds their roles: groups last asserted and when, each rule matched or not, the resulting roles, what a login now would change. JSON, or text with Accept: text/plain',
        parameters: [orgId, userId],
        responses: { '200': { description: 'The explain trace' }, ...common, '404': error('No such member') },
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
          '400': error('ERR_BAD_REQUEST'),
          ...common,
          '409': error('ERR_MEMBER_EXISTS'),
        },
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
          '400': error('A bad parameter'),
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
        responses: { '200': ok('Project roles', { type: 'array', items: ref('ProjectRole') }), ...common, '404': error('No such project') },
      },
      post: {
        operationId: 'api-project-roles-create',
        summary: 'Add or change a member’s project role (RE or AN)',
        requestBody: jsonBody({ type: 'object', required: ['project', 'user', 'role'], properties: { project: { type: 'integer' }, user: { type: 'integer' }, role: { type: 'string', enum: ['RE', 'AN'] } } }),
        responses: {
          '200': ok('Changed', ref('ProjectRole')),
          '201': ok('Added', ref('ProjectRole')),
          '400': error('ERR_BAD_REQUEST or ERR_INVALID_ROLE'),
          ...common,
          '404': error('No such project or member'),
          '409': error('ERR_ROLE_MANAGED_BY_IDP or ERR_MEMBER_INACTIVE'),
        },
      },
    },
    '/api/projects/{id}/roles': {
      get: {
        operationId: 'api-project-roles',
        summary: 'Roles in one project',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '200': ok('Project roles', { type: 'array', items: ref('ProjectRole') }), ...common, '404': error('No such project') },
      },
    },
    '/api/projects/roles/{id}': {
      delete: {
        operationId: 'api-project-roles-delete',
        summary: 'Remove a project role',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '204': { description: 'Removed' }, ...common, '404': error('No such project role'), '409': error('ERR_ROLE_MANAGED_BY_IDP') },
      },
    },
    '/api/tokens': {
      get: {
        operationId: 'api-tokens',
        summary: 'API tokens of the organization (never the keys)',
        parameters: [{ name: 'include_revoked', in: 'query', schema: { type: 'boolean', default: false } }],
        responses: { '200': ok('Tokens', { type: 'array', items: ref('Token') }), ...common },
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
