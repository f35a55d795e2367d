/** The config layer: confxml.xml → a validated Config, environment checks, `--check` output. */
export { parseConfig, type ConfigOverrides } from './parse.js';
export { loadConfig, checkEnvironment } from './environment.js';
export { describeConfig } from './describe.js';
export { splitParams, forbiddenParam, withoutUpdate } from './params.js';
export { defaultStateDir, DEFAULTS } from './defaults.js';
export type * from './types.js';
