/**
 * Step e: the verified profile and assertion facts → VerifiedLogin (plain data). Attributes are read from
 * node-saml's `profile.attributes` (built from the signed assertion) with own-property checks only.
 */
import type { AttributeNames } from '../configuration/types.js';
import type { AssertionFacts } from './assertion.js';
import { FORBIDDEN_ATTRIBUTE_NAMES } from './constants.js';
import { quote, reject } from './fail.js';
import type { VerifiedLogin } from './types.js';

export interface NormaliseContext {
  readonly organizationId: number;
  readonly attributeNames: AttributeNames;
  readonly clockSkewMs: number;
}

export function toVerifiedLogin(profileAttributes: unknown, facts: AssertionFacts, ctx: NormaliseContext): VerifiedLogin {
  const attributes = isRecord(profileAttributes) ? profileAttributes : {};
  const names = ctx.attributeNames;
  const read = (name: string): string[] | null => attributeValues(attributes, name, facts);

  const email = chooseEmail(read(names.email), facts.nameId);
  const until = Math.max(facts.scdNotOnOrAfterMs, facts.conditionsNotOnOrAfterMs ?? Number.NEGATIVE_INFINITY);
  return {
    organizationId: ctx.organizationId,
    issuer: facts.issuer,
    assertionId: facts.assertionId,
    nameId: facts.nameId,
    nameIdFormat: facts.nameIdFormat,
    sessionIndex: facts.sessionIndex,
    email,
    firstName: read(names.firstName)?.[0] ?? '',
    lastName: read(names.lastName)?.[0] ?? '',
    // null = the IdP sent no groups attribute (unknown); [] = it sent one with no values (empty).
    groups: read(names.groups),
    inResponseTo: facts.inResponseTo,
    replayCacheUntil: new Date(until + ctx.clockSkewMs),
  };
}

/**
 * The values of one attribute as a list of exact strings (a single value and a list mean the same:
 * `"staff"` vs `["staff","admins"]`). `null` when no <Attribute> with that Name exists;
 * `[]` when it exists without values (node-saml then leaves it out of `profile.attributes` entirely, hence
 * the element count from the signed assertion). node-saml maps an empty <AttributeValue/> to undefined:
 * that is the empty string. Anything else that is not a string (an <AttributeValue> with element content,
 * which node-saml passes on as an object) is rejected, not guessed at.
 */
function attributeValues(attributes: Readonly<Record<string, unknown>>, name: string, facts: AssertionFacts): string[] | null {
  // `__proto__` & co. are never looked up, even when configured (such an attribute
  // replaces the prototype of `profile.attributes`).
  if (FORBIDDEN_ATTRIBUTE_NAMES.has(name)) return null;
  if (!Object.hasOwn(attributes, name)) return (facts.attributeElementCount.get(name) ?? 0) > 0 ? [] : null;
  const raw = attributes[name];
  const list: readonly unknown[] = Array.isArray(raw) ? raw : [raw];
  const values: string[] = [];
  for (const value of list) {
    if (value === undefined) {
      values.push('');
      continue;
    }
    if (typeof value !== 'string') reject('ERR_SAML_ATTRIBUTES', `attribute ${quote(name)} has a value that is not text`);
    values.push(value);
  }
  return values;
}

// Deliberately simple: one "@", no whitespace or control characters, something on both sides, a sane length.
const EMAIL = /^[^\s@\u0000-\u001F\u007F]+@[^\s@\u0000-\u001F\u007F]+$/;

function chooseEmail(fromAttribute: string[] | null, nameId: string): string {
  if (fromAttribute !== null) {
    // An email attribute that is present but unusable is an error, not a reason to fall back to NameID.
    const first = fromAttribute[0];
    const email = first === undefined ? '' : first.trim().toLowerCase();
    if (!isEmail(email)) reject('ERR_SAML_ATTRIBUTES', 'the email attribute does not hold an email address');
    return email;
  }
  const fromNameId = nameId.trim().toLowerCase();
  if (!isEmail(fromNameId)) reject('ERR_SAML_ATTRIBUTES', 'no email attribute, and NameID is not an email address');
  return fromNameId;
}

function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
