export { NO_TRANSFER, decideAccess, ownershipFacts } from './decide.js';
export type { AccessDecision, DecisionInput, Held, HeldProject, OrgDecision, OwnershipFacts, ProjectDecision, Reason, ReasonKind, RuleMatch } from './decide.js';
export { effectiveGroups } from './staleness.js';
