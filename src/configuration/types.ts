/**
 * The typed, frozen configuration every other module consumes. Produced only by `loadConfig` in
 * configuration/load.ts from the YAML file (snake_case there, camelCase here). Relative paths in the
 * file resolve against the process's working directory (as `npm start` runs from the project root).
 */
import type { MappableOrgRole, ProjectMappingRole } from '../domain/roles.js';

export interface ServerConfig {
  /** Origin (and optional path prefix) browsers use, without trailing slash. All SAML URLs derive from it. */
  readonly publicUrl: string;
  readonly host: string;
  readonly port: number;
  readonly sessionSecret: string;
  readonly trustProxy: boolean;
  /** Directory for generated state (development IdP key pair). Default `./data`. */
  readonly dataDir: string;
  /** Session lifetime in seconds. Default 28800 (8 h). */
  readonly sessionMaxAgeSeconds: number;
}

export type DatabaseConfig =
  | { readonly client: 'sqlite'; readonly url: string; readonly filename: string }
  | { readonly client: 'pg'; readonly url: string; readonly connectionString: string };

export interface SamlSettings {
  /** 0..300, never "off". */
  readonly clockSkewSeconds: number;
  /** Largest accepted POST body at the ACS, bytes. Default 262144 (256 KiB). */
  readonly maxResponseBytes: number;
  /** How long an issued AuthnRequest id stays usable, seconds. Default 600. */
  readonly requestTtlSeconds: number;
}

export interface AttributeNames {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly groups: string;
}

/** A persona of the development IdP (sign-in without a real IdP). */
export interface DevPersona {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  /** `null` = the Response carries no groups attribute at all (to demonstrate "groups unknown"). */
  readonly groups: readonly string[] | null;
}

export type IdpConfig =
  | {
      readonly kind: 'development';
      /** Personas offered on the development IdP page (configured, or the shipped defaults). */
      readonly personas: readonly DevPersona[];
    }
  | {
      readonly kind: 'external';
      readonly entityId: string;
      readonly ssoUrl: string;
      /** PEM texts (certificates or public keys); more than one during key rollover. */
      readonly certs: readonly string[];
    };

export interface SsoConfig {
  readonly idp: IdpConfig;
  /** `{public_url}/saml/{org}/metadata` unless `sso.sp_entity_id` sets one. */
  readonly spEntityId: string;
  /** `{public_url}/saml/{org}/acs`. */
  readonly acsUrl: string;
  readonly allowIdpInitiated: boolean;
  readonly attributes: AttributeNames;
  readonly groupMatch: 'exact' | 'case-insensitive';
}

/** Where a rule was written, so explanations and audit rows can point at it. */
export interface RuleSource {
  readonly line: number;
  /** e.g. `organizations[0].roles.LS-Admins` */
  readonly path: string;
}

export interface OrgRoleRule {
  readonly group: string;
  readonly role: MappableOrgRole;
  readonly source: RuleSource;
}

export interface ProjectRoleRule {
  readonly group: string;
  readonly role: ProjectMappingRole;
  readonly source: RuleSource;
}

export interface ProjectConfig {
  readonly id: number;
  readonly title: string;
  readonly rules: readonly ProjectRoleRule[];
}

export interface OrganizationConfig {
  readonly id: number;
  readonly title: string;
  /** Lower-cased email of the one Owner. */
  readonly owner: string;
  readonly sso: SsoConfig;
  readonly roles: readonly OrgRoleRule[];
  readonly projects: readonly ProjectConfig[];
}

export interface Config {
  /** Absolute path of the file this came from. */
  readonly file: string;
  /** sha256 of the file's bytes, hex: the config revision named by audit rows. */
  readonly revision: string;
  readonly server: ServerConfig;
  readonly database: DatabaseConfig;
  readonly saml: SamlSettings;
  readonly organizations: readonly OrganizationConfig[];
}
