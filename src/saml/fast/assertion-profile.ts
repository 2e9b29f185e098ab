/**
 * node-saml 5.1.0's `processValidlySignedAssertionAsync` (src/saml.ts), for rolegate's pinned options
 * (validateInResponseTo 'never', maxAssertionAgeMs 0, audience = our entity id, clock skew ≥ 0), read from
 * the DOM of the verified assertion instead of an xml2js object of the same text. It throws the errors stock
 * throws, in the same order with the same messages, and builds `profile.attributes` as stock does; rolegate
 * reads nothing else from node-saml's profile.
 *
 * node-saml reads the assertion through xml2js (`explicitCharkey`, `stripPrefix` on element names, no
 * trimming). What that view is, in DOM terms, for an element E:
 * - a child "X" is any child ELEMENT whose local name is X, whatever its namespace;
 * - `$` exists iff E has attributes (namespace declarations count), `$.N` is the attribute whose qualified
 *   name is N;
 * - `_` is the concatenation of E's own text and CDATA children (not its descendants'), present only when
 *   that text is not all whitespace (JavaScript's `\s`);
 * - E with no attributes, no child elements and whitespace-only text is not an object but that text
 *   (a string, possibly empty).
 * `xml2jsView` computes exactly that, lazily, for the elements node-saml looks at.
 */
import { descendantElements } from '../structure.js';

/**
 * How the tree is read when it is not the parse of the signed text itself but the posted document's
 * assertion (original-tree.ts): which elements have attributes in that parse, and the Signature it lacks.
 */
export interface ReadAsSigned {
  hasAttributes(element: Element): boolean;
  readonly excluded: Element | null;
}

const AS_PARSED: ReadAsSigned = { hasAttributes: (element) => element.attributes.length > 0, excluded: null };

interface View {
  readonly element: Element;
  readonly read: ReadAsSigned;
  /** True when xml2js would give a string here (see above). */
  readonly isString: boolean;
  /** The string xml2js gives when `isString`. */
  readonly stringValue: string;
  readonly hasAttributes: boolean;
  /** `_`, or undefined. */
  readonly text: string | undefined;
  readonly hasChildElements: boolean;
}

const WHITESPACE_ONLY = /^\s*$/;

function view(element: Element, read: ReadAsSigned): View {
  let text = '';
  let hasChildElements = false;
  for (let n = element.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 3 || n.nodeType === 4) text += (n as CharacterData).data;
    else if (n.nodeType === 1) hasChildElements = true;
  }
  const hasAttributes = read.hasAttributes(element);
  const blank = WHITESPACE_ONLY.test(text);
  const isString = !hasAttributes && !hasChildElements && blank;
  return { element, read, isString, stringValue: text, hasAttributes, text: blank ? undefined : text, hasChildElements };
}

/** `obj.X` of an xml2js object: the child elements with local name X (empty for a string value). */
function kids(v: View | null, localName: string): View[] {
  if (v === null || v.isString) return [];
  const out: View[] = [];
  for (let n = v.element.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName) out.push(view(n as Element, v.read));
  }
  return out;
}

/** `obj.$.N`: undefined when there is no such attribute (callers check `$` itself where stock does). */
function attribute(v: View, qualifiedName: string): string | undefined {
  return v.element.hasAttribute(qualifiedName) ? v.element.getAttribute(qualifiedName) ?? undefined : undefined;
}

function dateStringToTimestamp(dateString: string | undefined, label: string): number {
  const ms = Date.parse(dateString as string);
  if (Number.isNaN(ms)) throw new Error(`Error parsing ${label}: '${dateString}' is not a valid date`);
  return ms;
}

function timestampsError(nowMs: number, skewMs: number, notBefore: string | undefined, notOnOrAfter: string | undefined, maxTimeLimitMs: number | undefined): Error | null {
  if (notBefore) {
    if (nowMs + skewMs < dateStringToTimestamp(notBefore, 'NotBefore')) return new Error('SAML assertion not yet valid');
  }
  if (notOnOrAfter) {
    if (nowMs - skewMs >= dateStringToTimestamp(notOnOrAfter, 'NotOnOrAfter')) return new Error('SAML assertion expired: clocks skewed too much');
  }
  if (maxTimeLimitMs) {
    if (nowMs - skewMs >= maxTimeLimitMs) return new Error('SAML assertion expired: assertion too old');
  }
  return null;
}

/** `assertion.$.IssueInstant`, with stock's TypeError when the assertion has no attributes at all. */
function issueInstant(assertion: View): string | undefined {
  if (!assertion.hasAttributes) throw new TypeError("Cannot read properties of undefined (reading 'IssueInstant')");
  return attribute(assertion, 'IssueInstant');
}

/** maxAssertionAgeMs is 0: stock parses both instants (throwing on either) and returns NotOnOrAfter. */
function maxAgeTime(notOnOrAfter: string | undefined, instant: string | undefined): number {
  const notOnOrAfterMs = dateStringToTimestamp(notOnOrAfter, 'NotOnOrAfter');
  dateStringToTimestamp(instant, 'IssueInstant');
  return notOnOrAfterMs;
}

/** A value node-saml passes on as an xml2js object (an AttributeValue with element content). */
export const NOT_TEXT: unique symbol = Symbol('an AttributeValue with element content');

export interface StockProfileFacts {
  /** node-saml's `profile.attributes` (absent when the assertion has no usable Attribute). */
  readonly attributes: Record<string, unknown> | undefined;
}

export function processVerifiedAssertion(
  assertionElement: Element,
  opts: { readonly nowMs: number; readonly skewMs: number; readonly audience: string },
  read: ReadAsSigned = AS_PARSED,
): StockProfileFacts {
  const { nowMs, skewMs } = opts;
  const assertion = view(assertionElement, read);

  // xml2js itself throws on an element named "_" (its text key): the parse fails before any check.
  for (const element of descendantElements(assertionElement, read.excluded)) {
    if (element.localName === '_') throw new Error('obj[charkey].match is not a function');
  }

  // Subject confirmations: with validateInResponseTo 'never' stock only looks for the first confirmation
  // whose data is within its time window, but parsing the instants on the way throws.
  const subject = kids(assertion, 'Subject')[0];
  if (subject !== undefined) {
    for (const confirmation of kids(subject, 'SubjectConfirmation')) {
      const data = kids(confirmation, 'SubjectConfirmationData')[0];
      if (data === undefined || data.isString || !data.hasAttributes) continue;
      const notBefore = attribute(data, 'NotBefore');
      const notOnOrAfter = attribute(data, 'NotOnOrAfter');
      const max = maxAgeTime(notOnOrAfter, issueInstant(assertion));
      if (timestampsError(nowMs, skewMs, notBefore, notOnOrAfter, max) === null) break;
    }
  }

  const conditionsList = kids(assertion, 'Conditions');
  const conditions = conditionsList[0] ?? null;
  if (conditionsList.length > 1) throw new Error('Unable to process multiple conditions in SAML assertion');
  // `conditions && conditions.$`: an object with attributes (a non-empty string has no `$`).
  if (conditions !== null && !conditions.isString && conditions.hasAttributes) {
    const notOnOrAfter = attribute(conditions, 'NotOnOrAfter');
    const max = maxAgeTime(notOnOrAfter, issueInstant(assertion));
    const err = timestampsError(nowMs, skewMs, attribute(conditions, 'NotBefore'), notOnOrAfter, max);
    if (err) throw err;
  }

  // Audience: `conditions.AudienceRestriction` (a TypeError when there are no Conditions at all).
  if (conditions === null) throw new TypeError("Cannot read properties of null (reading 'AudienceRestriction')");
  const restrictions = kids(conditions, 'AudienceRestriction');
  if (restrictions.length < 1) throw new Error('SAML assertion has no AudienceRestriction');
  for (const restriction of restrictions) {
    const audiences = kids(restriction, 'Audience');
    const firstAudience = audiences[0];
    // `!restriction.Audience[0]`: the empty string is falsy; `._` of a string is undefined.
    if (firstAudience === undefined || firstAudience.isString || !firstAudience.text) {
      throw new Error('SAML assertion AudienceRestriction has no Audience value');
    }
    if (audiences.every((a) => (a.isString ? undefined : a.text) !== opts.audience)) {
      throw new Error(
        `SAML assertion audience mismatch. Expected: ${opts.audience} Received: ${audiences.map((a) => (a.isString ? undefined : a.text)).join(', ')}`,
      );
    }
  }

  // Attributes: statements with at least one Attribute child; attributes with at least one AttributeValue.
  const attributes = kids(assertion, 'AttributeStatement').flatMap((statement) => kids(statement, 'Attribute'));
  if (attributes.length === 0) return { attributes: undefined };
  const profileAttributes: Record<string, unknown> = {};
  for (const attr of attributes) {
    const values = kids(attr, 'AttributeValue');
    if (values.length === 0) continue;
    if (!attr.hasAttributes) throw new TypeError("Cannot read properties of undefined (reading 'Name')");
    const name = String(attribute(attr, 'Name'));
    const mapped = values.map(attributeValue);
    // A plain assignment, as stock's: a name like "__proto__" has the same effect on this object.
    profileAttributes[name] = mapped.length === 1 ? mapped[0] : mapped;
  }
  return { attributes: profileAttributes };
}

/** Stock's attrValueMapper over the xml2js value of one AttributeValue. */
function attributeValue(v: View): unknown {
  // A string's keys are its indices: a non-empty (whitespace) string "has children" and is kept as is.
  if (v.isString) return v.stringValue.length > 0 ? v.stringValue : undefined;
  return v.hasChildElements ? NOT_TEXT : v.text;
}
