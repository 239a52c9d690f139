#!/usr/bin/env python3
"""
gen_unicode_data.py -- generate src/lc/lc_unicode_data.h

The regex translator (Unicode property escapes, case-insensitive matching)
and the IDNA2008 hostname checks need Unicode character data that
PostgreSQL 15 does not export.  This script derives compact range tables
from the Unicode Character Database (Debian package "unicode-data",
/usr/share/unicode) and the IDNA2008 code point classes (RFC 5892, as
tabulated by the Python "idna" package).  The output is committed, so the
build never needs either; re-run this script only to move to a newer
Unicode version:

    apt-get install unicode-data
    python3 scripts/gen_unicode_data.py > src/lc/lc_unicode_data.h
"""
import os
import re
import sys

UCD = os.environ.get("UCD", "/usr/share/unicode")
MAXCP = 0x10FFFF


def ucd_lines(name):
    with open(os.path.join(UCD, name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                yield [x.strip() for x in line.split(";")]


def parse_range(s):
    if ".." in s:
        a, b = s.split("..")
        return int(a, 16), int(b, 16)
    return int(s, 16), int(s, 16)


def runs(values, default):
    """values: dict cp -> value; yields (start, end, value) runs of non-default values."""
    out = []
    cur = None
    for cp in range(0, MAXCP + 1):
        v = values.get(cp, default)
        if cur is not None and cur[2] == v and cur[1] == cp - 1:
            cur[1] = cp
        else:
            if cur is not None and cur[2] != default:
                out.append(tuple(cur))
            cur = [cp, cp, v]
    if cur is not None and cur[2] != default:
        out.append(tuple(cur))
    return out


def main():
    version = None
    with open(os.path.join(UCD, "ReadMe.txt"), encoding="utf-8") as f:
        m = re.search(r"Version (\d+\.\d+\.\d+)", f.read())
        version = m.group(1) if m else "unknown"

    # General category (DerivedGeneralCategory lists every assigned range).
    gcs = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No",
           "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So",
           "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"]
    gc = {}
    for f in ucd_lines("extracted/DerivedGeneralCategory.txt"):
        a, b = parse_range(f[0])
        for cp in range(a, b + 1):
            gc[cp] = gcs.index(f[1])
    gc_runs = runs(gc, 0)

    # Scripts.
    scripts = []
    sc = {}
    for f in ucd_lines("Scripts.txt"):
        a, b = parse_range(f[0])
        if f[1] not in scripts:
            scripts.append(f[1])
        for cp in range(a, b + 1):
            sc[cp] = scripts.index(f[1]) + 1
    scripts = ["Unknown"] + scripts
    sc_runs = runs(sc, 0)
    # script aliases (short names)
    aliases = {}
    for f in ucd_lines("PropertyValueAliases.txt"):
        if f[0] == "sc":
            for alias in [f[1]] + f[3:]:
                aliases[alias] = f[2]

    # Bidi class (DerivedBidiClass includes the defaults of unassigned code points).
    bidis = ["L", "R", "AL", "EN", "ES", "ET", "AN", "CS", "NSM", "BN", "B", "S",
             "WS", "ON", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"]
    bidi = {}
    for f in ucd_lines("extracted/DerivedBidiClass.txt"):
        a, b = parse_range(f[0])
        for cp in range(a, b + 1):
            bidi[cp] = bidis.index(f[1])
    bidi_runs = runs(bidi, 0)

    # Joining type (D, R, L, C, T; U is the default).
    jts = ["U", "D", "R", "L", "C", "T"]
    jt = {}
    for f in ucd_lines("extracted/DerivedJoiningType.txt"):
        a, b = parse_range(f[0])
        for cp in range(a, b + 1):
            jt[cp] = jts.index(f[1])
    jt_runs = runs(jt, 0)

    # Virama (canonical combining class 9).
    virama = []
    for f in ucd_lines("extracted/DerivedCombiningClass.txt"):
        if f[1] == "9":
            a, b = parse_range(f[0])
            virama.append((a, b))

    # Simple case folding orbits: every code point with case variants maps to
    # the next member of its orbit (sorted cyclically).
    fold = {}
    for f in ucd_lines("CaseFolding.txt"):
        if f[1] in ("C", "S"):
            fold[int(f[0], 16)] = int(f[2], 16)
    orbits = {}
    for c, t in fold.items():
        orbits.setdefault(t, {t}).add(c)
    orbit_next = []
    for members in orbits.values():
        ms = sorted(members)
        for i, c in enumerate(ms):
            orbit_next.append((c, ms[(i + 1) % len(ms)]))
    orbit_next.sort()

    # Binary properties that ECMA-262 \p{...} accepts (table-binary-unicode-
    # properties of ECMA-262), except ASCII, Any and Assigned (computed).
    ecma_binary = ["ASCII_Hex_Digit", "Alphabetic", "Bidi_Control", "Bidi_Mirrored",
                   "Case_Ignorable", "Cased", "Changes_When_Casefolded",
                   "Changes_When_Casemapped", "Changes_When_Lowercased",
                   "Changes_When_NFKC_Casefolded", "Changes_When_Titlecased",
                   "Changes_When_Uppercased", "Dash", "Default_Ignorable_Code_Point",
                   "Deprecated", "Diacritic", "Emoji", "Emoji_Component", "Emoji_Modifier",
                   "Emoji_Modifier_Base", "Emoji_Presentation", "Extended_Pictographic",
                   "Extender", "Grapheme_Base", "Grapheme_Extend", "Hex_Digit",
                   "IDS_Binary_Operator", "IDS_Trinary_Operator", "ID_Continue", "ID_Start",
                   "Ideographic", "Join_Control", "Logical_Order_Exception", "Lowercase",
                   "Math", "Noncharacter_Code_Point", "Pattern_Syntax", "Pattern_White_Space",
                   "Quotation_Mark", "Radical", "Regional_Indicator", "Sentence_Terminal",
                   "Soft_Dotted", "Terminal_Punctuation", "Unified_Ideograph", "Uppercase",
                   "Variation_Selector", "White_Space", "XID_Continue", "XID_Start"]
    binprops = {name: [] for name in ecma_binary}
    for fname in ("PropList.txt", "DerivedCoreProperties.txt", "emoji/emoji-data.txt",
                  "extracted/DerivedBinaryProperties.txt", "DerivedNormalizationProps.txt"):
        for f in ucd_lines(fname):
            if len(f) >= 2 and f[1] in binprops:
                binprops[f[1]].append(parse_range(f[0]))
    bin_aliases = {}
    for f in ucd_lines("PropertyAliases.txt"):
        if f[1] in binprops:
            for alias in [f[0]] + f[2:]:
                bin_aliases[alias] = f[1]
    bin_runs = []
    bin_index = []
    for i, name in enumerate(ecma_binary):
        rs = sorted(binprops[name])
        merged = []
        for a, b in rs:
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if not merged:
            raise SystemExit("no data for binary property " + name)
        bin_index.append((name, len(bin_runs), len(merged)))
        bin_runs.extend((a, b, 1) for a, b in merged)

    # Script_Extensions: the code points whose extensions differ from their
    # script, with the list of scripts (as script numbers).
    short_to_long = {}
    for f in ucd_lines("PropertyValueAliases.txt"):
        if f[0] == "sc":
            short_to_long[f[1]] = f[2]
    scx_lists = []
    scx_runs = []
    for f in ucd_lines("ScriptExtensions.txt"):
        a, b = parse_range(f[0])
        ids = tuple(sorted(scripts.index(short_to_long[x]) for x in f[1].split()))
        if ids not in scx_lists:
            scx_lists.append(ids)
        scx_runs.append((a, b, scx_lists.index(ids)))
    scx_runs.sort()

    # IDNA2008 classes (RFC 5892): PVALID, CONTEXTJ, CONTEXTO; the rest is
    # DISALLOWED or UNASSIGNED, which a hostname check treats alike.
    import idna.idnadata as idnadata
    idna_cls = {}
    for name, val in (("PVALID", 1), ("CONTEXTJ", 2), ("CONTEXTO", 3)):
        for r in idnadata.codepoint_classes[name]:
            a, b = r >> 32, (r & 0xFFFFFFFF) - 1
            for cp in range(a, b + 1):
                idna_cls[cp] = val
    idna_runs = runs(idna_cls, 0)

    out = sys.stdout
    out.write("/*-------------------------------------------------------------------------\n"
              " *\n * lc_unicode_data.h\n"
              " *\t  Unicode character data tables (generated, do not edit).\n *\n"
              " * Generated by scripts/gen_unicode_data.py from the Unicode Character\n"
              " * Database %s and the IDNA2008 code point classes of the Python idna\n"
              " * package %s.  Included only by lc_unicode.c.\n *\n"
              " *-------------------------------------------------------------------------\n */\n"
              % (version, idnadata.__version__))
    out.write("#define LC_UNICODE_VERSION \"%s\"\n\n" % version)
    out.write("typedef struct { uint32 lo; uint32 hi; uint8 val; } LcUniRun;\n")
    out.write("typedef struct { uint32 cp; uint32 next; } LcUniOrbit;\n")
    out.write("typedef struct { const char *alias; int script; } LcUniAlias;\n\n")

    def emit_runs(name, rs):
        out.write("static const LcUniRun %s[%d] = {\n" % (name, len(rs)))
        for a, b, v in rs:
            out.write("\t{0x%X, 0x%X, %d},\n" % (a, b, v))
        out.write("};\n\n")

    out.write("static const char *const lc_uni_gc_names[%d] = {%s};\n\n"
              % (len(gcs), ", ".join('"%s"' % g for g in gcs)))
    emit_runs("lc_uni_gc_runs", gc_runs)
    out.write("static const char *const lc_uni_script_names[%d] = {\n" % len(scripts))
    for s in scripts:
        out.write('\t"%s",\n' % s)
    out.write("};\n\n")
    al = sorted((a, scripts.index(l)) for a, l in aliases.items() if l in scripts and a != l)
    out.write("static const LcUniAlias lc_uni_script_aliases[%d] = {\n" % len(al))
    for a, i in al:
        out.write('\t{"%s", %d},\n' % (a, i))
    out.write("};\n\n")
    emit_runs("lc_uni_script_runs", sc_runs)
    out.write("static const char *const lc_uni_bidi_names[%d] = {%s};\n\n"
              % (len(bidis), ", ".join('"%s"' % g for g in bidis)))
    emit_runs("lc_uni_bidi_runs", bidi_runs)
    emit_runs("lc_uni_joining_runs", jt_runs)
    out.write("static const LcUniRun lc_uni_virama_runs[%d] = {\n" % len(virama))
    for a, b in virama:
        out.write("\t{0x%X, 0x%X, 1},\n" % (a, b))
    out.write("};\n\n")
    emit_runs("lc_uni_idna_runs", idna_runs)
    out.write("typedef struct { const char *name; int start; int count; } LcUniBinProp;\n\n")
    out.write("static const LcUniBinProp lc_uni_binprops[%d] = {\n" % len(bin_index))
    for name, start, count in bin_index:
        out.write('\t{"%s", %d, %d},\n' % (name, start, count))
    out.write("};\n\n")
    ba = sorted((a, ecma_binary.index(n)) for a, n in bin_aliases.items() if a != n)
    out.write("static const LcUniAlias lc_uni_binprop_aliases[%d] = {\n" % len(ba))
    for a, i in ba:
        out.write('\t{"%s", %d},\n' % (a, i))
    out.write("};\n\n")
    emit_runs("lc_uni_binprop_runs", bin_runs)
    out.write("static const uint8 lc_uni_scx_lists[%d][%d] = {\n" % (len(scx_lists), max(len(l) for l in scx_lists) + 1))
    for l in scx_lists:
        out.write("\t{%s},\n" % ", ".join(str(x) for x in list(l) + [0]))
    out.write("};\n\n")
    emit_runs("lc_uni_scx_runs", scx_runs)
    out.write("static const LcUniOrbit lc_uni_case_orbit[%d] = {\n" % len(orbit_next))
    for c, n in orbit_next:
        out.write("\t{0x%X, 0x%X},\n" % (c, n))
    out.write("};\n")


if __name__ == "__main__":
    main()
