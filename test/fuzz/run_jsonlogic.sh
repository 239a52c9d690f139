#!/usr/bin/env bash
# Build and run the JsonLogic fuzz harness (libFuzzer + AddressSanitizer +
# UndefinedBehaviorSanitizer).  See test/fuzz/README-jsonlogic.md.
#
#   test/fuzz/run_jsonlogic.sh [RUNS] [extra libFuzzer options...]
#
# RUNS defaults to 1000000 executions.  Work files (binary, corpus, crash
# reproducers) go to tmp_fuzz/jsonlogic/ in the repository top (ignored by git).
# The seed corpus is made from the official JsonLogic tests
# ($LOWCODE_SHARED/testdata/jsonlogic/tests.json, read in place) plus a few
# rules nested 100,000 deep.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${LOWCODE_SHARED:-$(cd "$TOP/.." && pwd)/shared}
PG_INCLUDE=$(/usr/lib/postgresql/15/bin/pg_config --includedir-server)
PG_LIBDIR=$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)
OUT=$TOP/tmp_fuzz/jsonlogic
RUNS=${1:-1000000}
shift || true

mkdir -p "$OUT/corpus" "$OUT/artifacts"
SRCS=("$TOP/src/jsonlogic/jsonlogic_value.c" "$TOP/src/jsonlogic/jsonlogic_engine.c"
      "$TOP/test/fuzz/fuzz_shim.c" "$TOP/test/fuzz/jsonlogic_fuzz.c")
CFLAGS=(-g -O1 -fno-omit-frame-pointer -I"$TOP/src" -I"$TOP/test/fuzz" -I"$PG_INCLUDE"
        -Wall -Wno-unused-command-line-argument -Wno-ignored-attributes)
# libpgcommon.a provides only the shortest-float formatter (d2s.o).
LIBS=("$PG_LIBDIR/libpgcommon.a" -lm)

clang "${CFLAGS[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  "${SRCS[@]}" "${LIBS[@]}" -o "$OUT/jsonlogic_fuzz"
clang "${CFLAGS[@]}" -DJL_FUZZ_STANDALONE -fsanitize=address,undefined \
  "${SRCS[@]}" "${LIBS[@]}" -o "$OUT/jsonlogic_repro"

# Seed corpus: each [rule, data, expected] case of tests.json as "rule data".
if command -v perl >/dev/null && [ -f "$SHARED/testdata/jsonlogic/tests.json" ]; then
  perl -MJSON::PP -e '
    my ($file, $dir) = @ARGV;
    open(my $fh, "<:raw", $file) or die $!; local $/; my $cases = JSON::PP->new->decode(<$fh>);
    my $js = JSON::PP->new->canonical->allow_nonref; my $i = 0;
    for my $c (@$cases) {
      next unless ref $c eq "ARRAY";
      open(my $o, ">:raw", sprintf("%s/seed_%03d", $dir, ++$i)) or die $!;
      print $o $js->encode($c->[0]), "\n", $js->encode($c->[1]);
      close $o;
    }' "$SHARED/testdata/jsonlogic/tests.json" "$OUT/corpus"
fi
# Deep nesting: 100,000 levels of operators and of arrays, in rule and data.
perl -e 'print "{\"!\":" x 100000, "true", "}" x 100000' > "$OUT/corpus/deep_not"
perl -e 'print "[" x 100000, "]" x 100000' > "$OUT/corpus/deep_array"
perl -e 'print "{\"var\":\"a\"}\n", "{\"a\":" x 100000, "1", "}" x 100000' > "$OUT/corpus/deep_data"
perl -e 'print "{\"cat\":[{\"var\":\"\"}]}\n", "[" x 100000, "]" x 100000' > "$OUT/corpus/deep_data_cat"

echo "== deep inputs (standalone, 100,000 levels)"
"$OUT/jsonlogic_repro" "$OUT/corpus/deep_not" "$OUT/corpus/deep_array" \
  "$OUT/corpus/deep_data" "$OUT/corpus/deep_data_cat"

echo "== libFuzzer: $RUNS runs"
"$OUT/jsonlogic_fuzz" -runs="$RUNS" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -dict="$TOP/test/fuzz/jsonlogic.dict" -artifact_prefix="$OUT/artifacts/" \
  -print_final_stats=1 "$@" "$OUT/corpus"
