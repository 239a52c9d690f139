#!/usr/bin/env python3
"""Which functions differ between two install scripts of pg_lowcode.

Usage: scripts/upgrade_diff.py OLD.sql NEW.sql

Prints, for every CREATE FUNCTION of NEW.sql that is absent from OLD.sql or
whose text differs, the statement rewritten as CREATE OR REPLACE FUNCTION,
followed by the COMMENT ON FUNCTION statements of NEW.sql that name it.  An
aid for writing sql/pg_lowcode--A--B.sql, not a substitute: other objects
(tables, indexes, policies, grants, seeded rows) are listed by name only, and
test/t/003_extension_upgrade.pl remains the judge of the result.
"""
import re
import sys


def statements(text):
    """Split SQL text into top-level statements (quotes, dollar quotes and comments respected)."""
    out, start, i, n = [], 0, 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('--', i):
            j = text.find('\n', i)
            i = n if j < 0 else j + 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            i = n if j < 0 else j + 2
        elif c == "'":
            i += 1
            while i < n:
                if text[i] == "'" and i + 1 < n and text[i + 1] == "'":
                    i += 2
                elif text[i] == "'":
                    i += 1
                    break
                else:
                    i += 1
        elif c == '$':
            m = re.match(r'\$[A-Za-z_0-9]*\$', text[i:])
            if m:
                tag = m.group(0)
                j = text.find(tag, i + len(tag))
                i = n if j < 0 else j + len(tag)
            else:
                i += 1
        elif c == ';':
            out.append(text[start:i + 1])
            start = i + 1
            i += 1
        elif text.startswith('\\', i) and (i == 0 or text[i - 1] == '\n'):
            j = text.find('\n', i)        # a psql meta-command line
            i = n if j < 0 else j + 1
            start = i
        else:
            i += 1
    return out


def strip_comments(stmt):
    lines = [l for l in stmt.split('\n') if not l.lstrip().startswith('--')]
    return '\n'.join(lines).strip()


FUNC = re.compile(r'CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+([\w.]+)\s*\(', re.I)
OTHER = re.compile(r'(CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|POLICY|TRIGGER|VIEW|SEQUENCE|TYPE)\s+(?:IF\s+NOT\s+EXISTS\s+)?[\w."]+)', re.I)


def signature(stmt):
    """name(argument list as written, defaults removed, whitespace normalised)."""
    m = FUNC.search(stmt)
    depth, j = 1, m.end()
    while depth:
        depth += {'(': 1, ')': -1}.get(stmt[j], 0)
        j += 1
    args = ' '.join(stmt[m.end():j - 1].split())
    args = re.sub(r'\s+DEFAULT\s+[^,]*', '', args, flags=re.I)
    return m.group(1).lower() + '(' + args + ')'


def index(text):
    funcs, others, comments = {}, set(), {}
    for st in statements(text):
        body = strip_comments(st)
        if FUNC.match(body):
            funcs[signature(body)] = body
        elif re.match(r'COMMENT\s+ON\s+FUNCTION', body, re.I):
            name = re.match(r'COMMENT\s+ON\s+FUNCTION\s+([\w.]+)', body, re.I).group(1).lower()
            comments.setdefault(name, []).append(body)
        else:
            m = OTHER.match(body)
            if m:
                others.add(' '.join(m.group(1).split()))
    return funcs, others, comments


def main():
    old, new = (open(p).read() for p in sys.argv[1:3])
    of, oo, _ = index(old)
    nf, no, nc = index(new)
    for sig, body in nf.items():
        if of.get(sig) == body:
            continue
        print('-- %s: %s' % ('changed' if sig in of else 'new', sig))
        print(re.sub(r'^CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION', 'CREATE OR REPLACE FUNCTION', body, count=1, flags=re.I))
        for c in nc.get(sig.split('(')[0], []):
            print(c)
        print()
    for sig in of:
        if sig not in nf:
            print('-- dropped: %s' % sig)
    for o in sorted(no - oo):
        print('-- new object: %s' % o)
    for o in sorted(oo - no):
        print('-- dropped object: %s' % o)


if __name__ == '__main__':
    main()
