/**
 * TypeScript types for the submissions of a registered schema version.
 *
 * Covers what forms use: objects (required / optional properties,
 * additionalProperties), arrays (items, prefixItems / tuple items), enum,
 * const, the scalar types, type arrays, nullable, anyOf / oneOf (unions),
 * allOf (intersections) and local $ref to $defs / definitions (named
 * types). Anything else becomes `unknown`, never a wrong type.
 */
type Schema = boolean | { [k: string]: unknown };

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function typeName(s: string): string {
  const words = s.replace(/[^A-Za-z0-9]+/g, ' ').trim().split(/\s+/).filter(Boolean);
  const name = words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  return name === '' ? 'Submission' : /^[0-9]/.test(name) ? `T${name}` : name;
}

function literal(v: unknown): string {
  return JSON.stringify(v);
}

function key(k: string): string {
  return IDENT.test(k) ? k : JSON.stringify(k);
}

interface Ctx {
  defs: Map<string, string>;   // $ref pointer -> type name
  indent: string;
}

function convert(schema: Schema, ctx: Ctx): string {
  if (schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (!schema || typeof schema !== 'object') return 'unknown';
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string') {
    const name = ctx.defs.get(s.$ref);
    return name ?? 'unknown';
  }
  if ('const' in s) return literal(s.const);
  if (Array.isArray(s.enum)) return s.enum.map(literal).join(' | ') || 'never';
  const parts: string[] = [];
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) {
    const alts = ((s.anyOf ?? s.oneOf) as Schema[]).map((x) => convert(x, ctx));
    parts.push(alts.length > 1 ? `(${alts.join(' | ')})` : alts[0] ?? 'never');
  }
  if (Array.isArray(s.allOf)) {
    for (const x of s.allOf as Schema[]) parts.push(convert(x, ctx));
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  if (types.length > 0 || s.properties || s.items) {
    const inferred = types.length > 0 ? types : s.properties ? ['object'] : ['array'];
    const alts = inferred.map((t) => scalar(t, s, ctx));
    if (s.nullable === true && !inferred.includes('null')) alts.push('null');
    parts.push(alts.length > 1 ? `(${alts.join(' | ')})` : alts[0]);
  }
  if (parts.length === 0) return 'unknown';
  return parts.join(' & ');
}

function scalar(t: string, s: Record<string, unknown>, ctx: Ctx): string {
  switch (t) {
    case 'string': return 'string';
    case 'integer':
    case 'number': return 'number';
    case 'boolean': return 'boolean';
    case 'null': return 'null';
    case 'array': {
      if (Array.isArray(s.prefixItems)) {
        const items = (s.prefixItems as Schema[]).map((x) => convert(x, ctx));
        const rest = s.items === false ? '' : `, ...${wrap(convert((s.items as Schema) ?? true, ctx))}[]`;
        return `[${items.join(', ')}${rest}]`;
      }
      if (Array.isArray(s.items)) {
        const items = (s.items as Schema[]).map((x) => convert(x, ctx));
        return `[${items.join(', ')}, ...unknown[]]`;
      }
      return `${wrap(convert((s.items as Schema) ?? true, ctx))}[]`;
    }
    case 'object': return object(s, ctx);
    default: return 'unknown';
  }
}

function wrap(t: string): string {
  return /^[A-Za-z0-9_$"]+$/.test(t) ? t : `(${t})`;
}

function object(s: Record<string, unknown>, ctx: Ctx): string {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const inner: Ctx = { ...ctx, indent: ctx.indent + '  ' };
  const lines: string[] = [];
  for (const [k, v] of Object.entries(props)) {
    const doc = v && typeof v === 'object' && typeof (v as Record<string, unknown>).title === 'string'
      ? `${inner.indent}/** ${String((v as Record<string, unknown>).title).replace(/\*\//g, '* /')} */\n` : '';
    lines.push(`${doc}${inner.indent}${key(k)}${required.has(k) ? '' : '?'}: ${convert(v, inner)};`);
  }
  const ap = s.additionalProperties;
  if (ap === undefined || ap === true) lines.push(`${inner.indent}[key: string]: unknown;`);
  else if (ap && typeof ap === 'object') lines.push(`${inner.indent}[key: string]: ${convert(ap as Schema, inner)} | undefined;`);
  if (lines.length === 0) return 'Record<string, never>';
  return `{\n${lines.join('\n')}\n${ctx.indent}}`;
}

/** TypeScript declarations (export type ...) for a schema; `name` is the root type's name. */
export function schemaToTypeScript(schema: Schema, name = 'Submission'): string {
  const defs = new Map<string, string>();
  const out: string[] = [];
  const root = schema && typeof schema === 'object' ? (schema as Record<string, unknown>) : {};
  for (const container of ['$defs', 'definitions']) {
    const d = root[container];
    if (d && typeof d === 'object') {
      for (const k of Object.keys(d)) defs.set(`#/${container}/${k}`, typeName(k));
    }
  }
  for (const container of ['$defs', 'definitions']) {
    const d = root[container] as Record<string, Schema> | undefined;
    if (d && typeof d === 'object') {
      for (const [k, v] of Object.entries(d)) {
        out.push(`export type ${typeName(k)} = ${convert(v, { defs, indent: '' })};`);
      }
    }
  }
  out.push(`export type ${typeName(name)} = ${convert(schema, { defs, indent: '' })};`);
  return `// Generated by lowcode-types from a pg_lowcode schema version. Do not edit.\n${out.join('\n\n')}\n`;
}
