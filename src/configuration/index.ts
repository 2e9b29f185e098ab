/** The configuration module's public surface: load/check the YAML file, the types, the shipped defaults. */
export { loadConfig, checkConfig, type LoadOptions, type CheckResult } from './load.js';
export { defaultPersonas } from './defaults.js';
export { groupKey, type GroupMatch } from './groups.js';
export type * from './types.js';
