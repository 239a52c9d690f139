#!/bin/sh
# Build and run the CEL fuzz harness (libFuzzer + AddressSanitizer + UBSan).
#
#   test/fuzz/run.sh [RUNS] [extra libFuzzer options]
#
# RUNS defaults to 1000000 executions.  The corpus grows in
# test/fuzz/corpus_cel (not committed); seeds come from test/fuzz/seeds_cel.
# Exit status is libFuzzer's: 0 when every input ran clean.
set -eu
FUZZ=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$FUZZ/../.." && pwd)
PG_INC=$(${PG_CONFIG:-pg_config} --includedir-server)
RUNS=${1:-1000000}
[ $# -gt 0 ] && shift
OUT=$FUZZ/build
SHARED=${LOWCODE_SHARED:-$TOP/../shared}
mkdir -p "$OUT" "$FUZZ/corpus_cel" "$OUT/seeds_spec"
# seeds: the expressions of the cel-spec conformance data, read in place
# (never copied into the repository), plus the hand-written test/fuzz/seeds_cel
perl -MJSON::PP -e '
  my $n = 0;
  for my $f (glob("$ARGV[0]/testdata/cel-spec/*.json")) {
    open(my $fh, "<:raw", $f) or die; local $/;
    my $d = JSON::PP->new->utf8->decode(<$fh>);
    for my $s (@{$d->{section}}) { for my $t (@{$s->{test}}) {
      open(my $o, ">:raw", sprintf("%s/%05d.cel", $ARGV[1], $n++)) or die;
      utf8::encode(my $e = $t->{expr}); print $o $e; close $o; } } }' "$SHARED" "$OUT/seeds_spec"
clang-14 -g -O1 -Wno-ignored-attributes -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$TOP/src" -I"$FUZZ" -I"$PG_INC" \
  "$FUZZ/cel_fuzz.c" "$FUZZ/fuzz_shim.c" \
  "$TOP"/src/cel/cel_lex.c "$TOP"/src/cel/cel_parse.c "$TOP"/src/cel/cel_eval.c \
  "$TOP"/src/cel/cel_value.c "$TOP"/src/cel/cel_stdlib.c "$TOP"/src/cel/cel_time.c \
  "$TOP"/src/cel/cel_strings_ext.c "$TOP"/src/cel/cel_math_ext.c "$TOP"/src/cel/cel_check.c \
  "$(${PG_CONFIG:-pg_config} --pkglibdir)/libpgcommon.a" -lm -o "$OUT/cel_fuzz"
exec "$OUT/cel_fuzz" -runs="$RUNS" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -dict="$FUZZ/cel.dict" -artifact_prefix="$OUT/" -print_final_stats=1 "$@" "$FUZZ/corpus_cel" "$FUZZ/seeds_cel" "$OUT/seeds_spec"
