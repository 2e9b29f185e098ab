/**
 * The discovery documents (RFC 7644 §4, RFC 7643 §5–7): what this service provider supports, its two resource
 * types and the attributes of each as rolegate uses them. Attributes an IdP sends beyond these are accepted
 * and ignored (see resources.ts), so the documents describe what is kept, not everything that is tolerated.
 */
import { CORE_GROUP_SCHEMA, CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA } from './filter.js';

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** Largest page a list returns (`count` above it is lowered to it), advertised as filter.maxResults. */
export const MAX_RESULTS = 1000;

export function serviceProviderConfig(base: string, docs: string): unknown {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: docs,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'Authorization: Bearer <key> with a SCIM token of the organization (rolegate token create --scim)',
        documentationUri: docs,
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string): unknown[] {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: CORE_USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: CORE_GROUP_SCHEMA,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

interface Attr {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable';
  uniqueness?: 'none' | 'server';
  description: string;
  subAttributes?: Attr[];
  referenceTypes?: string[];
}

function attribute(a: Attr): unknown {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    description: a.description,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    mutability: a.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: a.uniqueness ?? 'none',
    ...(a.referenceTypes === undefined ? {} : { referenceTypes: a.referenceTypes }),
    ...(a.subAttributes === undefined ? {} : { subAttributes: a.subAttributes.map(attribute) }),
  };
}

export function schemas(base: string): unknown[] {
  const user = {
    schemas: [SCHEMA_SCHEMA],
    id: CORE_USER_SCHEMA,
    name: 'User',
    description: 'User Account',
    attributes: [
      { name: 'userName', type: 'string', required: true, uniqueness: 'server', description: "The member's email address, compared without case; returned as sent" },
      {
        name: 'name',
        type: 'complex',
        description: "The member's name",
        subAttributes: [
          { name: 'givenName', type: 'string', description: 'Given name' },
          { name: 'familyName', type: 'string', description: 'Family name' },
        ],
      },
      { name: 'displayName', type: 'string', description: 'Name for display' },
      {
        name: 'emails',
        type: 'complex',
        multiValued: true,
        description: 'Email addresses; the work one is filterable',
        subAttributes: [
          { name: 'value', type: 'string', description: 'The address' },
          { name: 'type', type: 'string', description: 'work, home, other' },
          { name: 'primary', type: 'boolean', description: 'The primary address' },
        ],
      },
      { name: 'active', type: 'boolean', description: 'false: the member is Deactivated (sessions and tokens end)' },
      {
        name: 'groups',
        type: 'complex',
        multiValued: true,
        mutability: 'readOnly',
        description: 'Groups the member belongs to (change them through /Groups)',
        subAttributes: [
          { name: 'value', type: 'string', mutability: 'readOnly', description: 'Group id' },
          { name: 'display', type: 'string', mutability: 'readOnly', description: 'Group displayName' },
        ],
      },
    ] satisfies Attr[],
  };
  const group = {
    schemas: [SCHEMA_SCHEMA],
    id: CORE_GROUP_SCHEMA,
    name: 'Group',
    description: 'Group',
    attributes: [
      { name: 'displayName', type: 'string', required: true, uniqueness: 'server', description: 'Matched exactly against the mapped group names of the configuration' },
      {
        name: 'members',
        type: 'complex',
        multiValued: true,
        description: 'Members of the group',
        subAttributes: [
          { name: 'value', type: 'string', mutability: 'immutable', description: 'User id' },
          { name: 'display', type: 'string', mutability: 'readOnly', description: "The member's userName" },
          { name: '$ref', type: 'reference', mutability: 'immutable', referenceTypes: ['User'], description: 'URI of the User' },
        ],
      },
    ] satisfies Attr[],
  };
  return [user, group].map((s) => ({
    ...s,
    attributes: s.attributes.map((a) => attribute(a as Attr)),
    meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` },
  }));
}

export function listResponse(resources: readonly unknown[], total: number, startIndex: number): unknown {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}
