#!/usr/bin/env node
/**
 * lowcode-types: TypeScript types for the submissions of a registered
 * schema version, read from the registry through PostgREST.
 *
 *   lowcode-types --url http://127.0.0.1:3000 --token JWT [--schema api] SUBJECT [VERSION] > subject.ts
 *   lowcode-types --file schema.json [--name Name]                                       > subject.ts
 */
import { readFileSync } from 'node:fs';
import { LowcodeClient } from '../client.js';
import { schemaToTypeScript } from '../typescript.js';

async function main(argv: string[]): Promise<number> {
  const opts: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) opts[a.slice(2)] = argv[++i] ?? '';
    else rest.push(a);
  }
  if (opts.file) {
    process.stdout.write(schemaToTypeScript(JSON.parse(readFileSync(opts.file, 'utf8')), opts.name ?? 'Submission'));
    return 0;
  }
  const url = opts.url ?? process.env.LOWCODE_URL;
  const token = opts.token ?? process.env.LOWCODE_TOKEN;
  if (!url || rest.length < 1) {
    process.stderr.write('usage: lowcode-types --url URL --token JWT [--schema api] SUBJECT [VERSION]\n       lowcode-types --file schema.json [--name Name]\n');
    return 2;
  }
  const client = new LowcodeClient({ url, token, schema: opts.schema });
  const schema = await client.getForm(rest[0], rest[1] ? Number(rest[1]) : undefined);
  process.stdout.write(schemaToTypeScript(schema, opts.name ?? rest[0]));
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  process.stderr.write(`lowcode-types: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
