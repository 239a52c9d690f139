/**
 * pg_lowcode's validation errors (the ajv shape) as react-jsonschema-form
 * wants them.
 *
 * RJSF shows errors next to fields in two ways: a list of
 * RJSFValidationError (what its own ajv validator produces; `property` is a
 * dotted path such as ".items.0.qty") and `extraErrors`, a tree that
 * mirrors the form data with `__errors: string[]` at each field. ajv's
 * `required` error points at the parent object; its field is
 * `params.missingProperty`, so it is moved one level down here, as RJSF does.
 */
import type { AjvError } from './errors.js';

/** RJSF's RJSFValidationError, without depending on @rjsf/utils at run time. */
export interface RjsfValidationError {
  name: string;
  property: string;
  message: string;
  params: Record<string, unknown>;
  stack: string;
  schemaPath: string;
}

/** RJSF's ErrorSchema: `__errors` at each level, children by property name or array index. */
export type ExtraErrors = { __errors?: string[] } & { [key: string]: ExtraErrors | string[] | undefined };

/** The path segments of a JSON pointer ("/items/0/qty" -> ["items", "0", "qty"]). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  const p = pointer.startsWith('#') ? decodeURIComponent(pointer.slice(1)) : pointer;
  return p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Where an error belongs: its instance path, plus the missing property of a `required` error. */
export function errorSegments(e: AjvError): string[] {
  const segs = pointerSegments(e.instancePath ?? '');
  const missing = e.params?.missingProperty;
  if ((e.keyword === 'required' || e.keyword === 'dependencies' || e.keyword === 'dependentRequired') &&
      typeof missing === 'string') {
    segs.push(missing);
  }
  return segs;
}

function dotted(segs: string[]): string {
  return segs.map((s) => (/^[A-Za-z_$][\w$]*$/.test(s) || /^\d+$/.test(s) ? `.${s}` : `['${s.replace(/'/g, "\\'")}']`)).join('');
}

/** The error list as RJSF's RJSFValidationError[] (for `transformErrors` or a custom validator). */
export function toRjsfErrors(errors: AjvError[]): RjsfValidationError[] {
  return errors.map((e) => {
    const property = dotted(errorSegments(e));
    return {
      name: e.keyword,
      property,
      message: e.message,
      params: e.params ?? {},
      stack: `${property || '.'} ${e.message}`.trim(),
      schemaPath: e.schemaPath,
    };
  });
}

/** The error list as RJSF's `extraErrors` tree (the form's `extraErrors` prop). Warnings are left out unless asked for. */
export function toExtraErrors(errors: AjvError[], opts: { includeWarnings?: boolean } = {}): ExtraErrors {
  const root: ExtraErrors = {};
  for (const e of errors) {
    if (!opts.includeWarnings && e.severity === 'warning') continue;
    let node: ExtraErrors = root;
    for (const s of errorSegments(e)) {
      const child = node[s];
      if (!child || Array.isArray(child)) node[s] = {};
      node = node[s] as ExtraErrors;
    }
    (node.__errors ??= []).push(e.message);
  }
  return root;
}
