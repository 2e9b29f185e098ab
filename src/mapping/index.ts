export { decideAccess } from './decide.js';
export type { AccessDecision, DecisionInput, Held, HeldProject, OrgDecision, ProjectDecision, Reason, ReasonKind, RuleMatch } from './decide.js';
