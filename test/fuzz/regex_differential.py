#!/usr/bin/env python3
"""
regex_differential.py -- compare lowcode.regex_test('ecma262', ...) with a real
ECMA-262 engine (Node.js, RegExp with the "u" flag) on random patterns.

    python3 test/fuzz/regex_differential.py [--cases N] [--seed S] [--icase] [psql options...]

for example, against a running server with the extension:

    python3 test/fuzz/regex_differential.py --cases 6000 -h /tmp -p 55420 -d postgres

Prints how many (pattern, subject) pairs gave different answers and some of
them, how many patterns Node accepts and pg_lowcode refuses, and the reverse
(pg_lowcode accepts Annex B forms and ES2025 modifiers that Node 20 refuses).
With --icase every pattern P is run as (?i:P) here and with the "ui" flags
in Node (Node 20 has no (?i:...) modifier groups).  The differences known and documented in docs/regex.md (back references to
groups that did not take part in the match) show up here; anything else is
a bug.  Needs node and psql on PATH.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

ATOMS = ['a', 'b', 'c', '.', '\\d', '\\w', '\\s', '\\D', '\\W', '\\S', '\\b', '\\B', '^', '$', '[abc]',
         '[^a]', '[a-c]', '[\\d_]', '[^\\s]', 'é', '🐲', '\\u00e9', '\\u{1F432}', '(?:ab)', '(a)',
         '(?<n>b)', '\\1', '(?=a)', '(?!b)', '(?<=a)', '(?<!b)', '\\p{L}', '\\P{L}', '\\p{Lu}', '\\n',
         '\\t', 'x', '-', '[\\w-]', '[]', '[^]', '\\k<n>', '\u2028', 'A', 'É', '\\.', '[\\s\\S]',
         '\\p{Script=Greek}', 'α', '[^\\d\\s]']
ASSERTIONS = {'^', '$', '\\b', '\\B', '(?=a)', '(?!b)', '(?<=a)', '(?<!b)'}
QUANTS = ['', '', '', '*', '+', '?', '{2}', '{1,2}', '{0,}', '*?', '+?']
SUBJECT_CHARS = ['a', 'b', 'c', 'A', 'B', 'é', 'É', '🐲', ' ', '\n', '\r', '1', '_', '-', '.', 'x',
                 '\u2028', '\u00a0', 'ſ', 'K', 'α']


def gen(n, seed):
    rnd = random.Random(seed)
    cases = []
    for _ in range(n // 3):
        p = ''
        for _ in range(rnd.randint(1, 5)):
            a = rnd.choice(ATOMS)
            if rnd.random() < 0.15:
                a = '(' + a + rnd.choice(ATOMS) + ')'
            if rnd.random() < 0.1:
                a = '(?:' + a + '|' + rnd.choice(ATOMS) + ')'
            p += a + ('' if a in ASSERTIONS else rnd.choice(QUANTS))
        for _ in range(3):
            cases.append((p, ''.join(rnd.choice(SUBJECT_CHARS) for _ in range(rnd.randint(0, 6)))))
    return cases


NODE = r"""
const cases = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
const flags = process.argv[2];
console.log(JSON.stringify(cases.map(([p, s]) => {
  try { return new RegExp(p, flags).test(s) ? 1 : 0; } catch (e) { return -1; }
})));
"""


def main():
    args = sys.argv[1:]
    n, seed, icase = 6000, 7, False
    while args and args[0] in ('--cases', '--seed', '--icase'):
        if args[0] == '--icase':
            icase = True
            args = args[1:]
            continue
        if args[0] == '--cases':
            n = int(args[1])
        else:
            seed = int(args[1])
        args = args[2:]
    cases = gen(n, seed)
    with tempfile.TemporaryDirectory() as d:
        cf = os.path.join(d, 'cases.json')
        with open(cf, 'w') as f:
            json.dump(cases, f)
        node = json.loads(subprocess.run(['node', '-e', NODE, cf, 'ui' if icase else 'u'], check=True,
                                         capture_output=True, text=True).stdout)

        def q(s):
            return "'" + s.replace("'", "''") + "'"
        sql = ("CREATE FUNCTION pg_temp.t(p text, s text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN "
               "RETURN lowcode.regex_test('ecma262', p, s)::int; EXCEPTION WHEN invalid_regular_expression "
               "THEN RETURN -1; END $$;\nSELECT string_agg(pg_temp.t(p, s)::text, ',' ORDER BY i) FROM (VALUES "
               + ",".join("(%d,%s,%s)" % (i, q('(?i:' + p + ')' if icase else p), q(s))
                          for i, (p, s) in enumerate(cases)) + ") v(i, p, s);\n")
        sf = os.path.join(d, 'q.sql')
        with open(sf, 'w') as f:
            f.write(sql)
        r = subprocess.run(['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', sf] + args,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(r.stderr)
        pg = [int(x) for x in r.stdout.strip().split('\n')[-1].split(',')]
    mismatch, refused, accepted = [], set(), set()
    for (p, s), a, b in zip(cases, node, pg):
        if a >= 0 and b >= 0 and a != b:
            mismatch.append((p, s, a, b))
        elif a >= 0 > b:
            refused.add(p)
        elif b >= 0 > a:
            accepted.add(p)
    print('%d cases: %d different answers, %d patterns refused here but not by node, '
          '%d accepted here but not by node' % (len(cases), len(mismatch), len(refused), len(accepted)))
    for m in mismatch[:20]:
        print('  different:', json.dumps(m, ensure_ascii=False))
    for p in sorted(refused)[:20]:
        print('  refused:', json.dumps(p, ensure_ascii=False))


if __name__ == '__main__':
    main()
