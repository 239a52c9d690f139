/**
 * @pg-lowcode/client: what a front end needs to talk to pg_lowcode behind
 * PostgREST (docs: README "Building a front end", clients/js/README.md).
 */
export * from './errors.js';
export * from './rjsf.js';
export * from './retry.js';
export * from './rules.js';
export * from './client.js';
export { schemaToTypeScript, typeName } from './typescript.js';
