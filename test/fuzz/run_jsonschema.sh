#!/usr/bin/env bash
# Build and run the JSON Schema fuzz harness (libFuzzer + AddressSanitizer +
# UndefinedBehaviorSanitizer) against the real PostgreSQL backend code.
# See test/fuzz/README.md, section "JSON Schema".
#
#   test/fuzz/run_jsonschema.sh [SECONDS] [extra libFuzzer options...]
#
# SECONDS defaults to 60.  Work files (binary, corpus, seeds, crash
# reproducers) go to tmp_fuzz/jsonschema/ (ignored by git).  Before fuzzing,
# every file of test/fuzz/regressions/jsonschema/ is replayed once.
#   test/fuzz/run_jsonschema.sh replay FILE...   runs only the given inputs.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ=$TOP/test/fuzz
SHARED=${LOWCODE_SHARED:-$(cd "$TOP/.." && pwd)/shared}
PG_INCLUDE=$(/usr/lib/postgresql/15/bin/pg_config --includedir-server)
OUT=$TOP/tmp_fuzz/jsonschema
SECS=${1:-60}
shift || true
mkdir -p "$OUT/corpus" "$OUT/seeds" "$OUT/artifacts"

# 1. The postgres executable as a library (see pg_as_library.sh).
"$FUZZ/pg_as_library.sh" "$OUT"

# 2. The harness and the extension's JSON Schema sources, instrumented.
SRCS=("$FUZZ/jsonschema_fuzz.c"
      "$TOP"/src/jsonschema/{js_compile,js_validate,js_fast,js_format,js_uri,js_metaschemas,js_jsonb}.c
      "$TOP"/src/lc/{lc_regex,lc_regex_charset,lc_regex_translate,lc_regex_class,lc_regex_pcre2,lc_unicode}.c)
clang -g -O1 -fPIC -fno-omit-frame-pointer -Wall -Wno-unused-command-line-argument -Wno-ignored-attributes \
  -Wno-missing-prototypes -I"$TOP/src" -I"$FUZZ" -I"$PG_INCLUDE" \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  "${SRCS[@]}" -L"$OUT/stub" -lpostgres -lpcre2-8 -ldl -Wl,-rpath,"$OUT/lib" -o "$OUT/jsonschema_fuzz"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ "$SECS" = replay ]; then
  exec "$OUT/jsonschema_fuzz" -timeout=10 -rss_limit_mb=2048 "$@"
fi

# 3. Seeds: every (schema, test data) pair of the JSON Schema Test Suite,
#    read in place, as "<draft byte>SCHEMA\nINSTANCE" (never committed).
perl -MJSON::PP -e '
  my ($suite, $dir) = @ARGV;
  my %draft = (draft4 => 0, draft6 => 1, draft7 => 2, "draft2019-09" => 3, "draft2020-12" => 4);
  my $js = JSON::PP->new->utf8->canonical->allow_nonref; my $n = 0;
  for my $d (sort keys %draft) {
    for my $f (glob("$suite/tests/$d/*.json"), glob("$suite/tests/$d/optional/*.json"),
               glob("$suite/tests/$d/optional/format/*.json")) {
      open(my $fh, "<:raw", $f) or die "$f: $!"; local $/;
      my $groups = JSON::PP->new->utf8->decode(<$fh>);
      for my $g (@$groups) { for my $t (@{$g->{tests}}) {
        open(my $o, ">:raw", sprintf("%s/%s_%05d", $dir, $d, $n++)) or die $!;
        # draft byte: low 3 bits the draft, 0x18 annotations and format assertion
        print $o chr($draft{$d} | ($n % 2 ? 0x18 : 0)), $js->encode($g->{schema}), "\n", $js->encode($t->{data});
        close $o; } } } }
  print "$n seeds\n";' "$SHARED/testdata/json-schema-test-suite" "$OUT/seeds"

# 4. Replay the kept regression inputs, then fuzz.
REG=("$FUZZ"/regressions/jsonschema/*)
if [ -e "${REG[0]}" ]; then
  echo "== replaying ${#REG[@]} regression inputs"
  "$OUT/jsonschema_fuzz" -timeout=10 -rss_limit_mb=2048 "${REG[@]}"
fi
echo "== libFuzzer: $SECS s"
exec "$OUT/jsonschema_fuzz" -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict="$FUZZ/jsonschema.dict" -artifact_prefix="$OUT/artifacts/" \
  -print_final_stats=1 "$@" "$OUT/corpus" "$OUT/seeds"
