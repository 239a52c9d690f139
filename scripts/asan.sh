#!/usr/bin/env bash
# Runs the pg_regress suite against an AddressSanitizer + UndefinedBehaviorSanitizer
# build of pg_lowcode.so and fails if any sanitizer report appears.
#   scripts/asan.sh [--port N] [TEST...]      (default: every test/sql test, then the
#                                             bad-input catalogue test/bad_input)
# The instrumented .so is built from a copy of the sources in tmp_check/asan/build
# (the normal build's objects are not touched) and installed into its own staged
# PostgreSQL copy, tmp_check/asan/install, whose "postgres" is
# scripts/asan_postgres.c: the sanitizer runtimes linked into an executable
# that runs the Debian postgres loaded as a library (LD_PRELOAD of libasan
# hangs the Debian binary before main(); see that file).  Leak detection is
# off: PostgreSQL frees memory by context at exit, not chunk by chunk.  ASan sees the extension's own
# malloc-level memory and every stack and global access; memory handed out by
# palloc lives inside AllocSet blocks, so an overflow from one palloc chunk into
# the next in the same block is not seen (valgrind.sh covers reads of
# uninitialised memory).  Reports are written to tmp_check/asan/logs.
set -uo pipefail
source "$(dirname "$0")/common.sh"
port=${LOWCODE_ASAN_PORT:-55402}
if [ "${1:-}" = --port ]; then port=$2; shift 2; fi
OUT=$TOP/tmp_check/asan
start=$(date +%s)

rm -rf "$OUT"; mkdir -p "$OUT/build" "$OUT/logs"
# 1. The instrumented build, from a copy of the sources.
cp -r "$TOP/Makefile" "$TOP/pg_lowcode.control" "$TOP/src" "$TOP/sql" "$OUT/build/"
find "$OUT/build" -name '*.o' -o -name '*.so' -o -name '*.bc' | xargs rm -f
# clang, like the launcher: one sanitizer runtime in the process (the .so
# leaves the runtime's symbols to the executable).  CFLAGS replaces
# PostgreSQL's gcc flags; -Wno-error: clang warns where gcc, which the
# normal -Werror build uses, does not.
SAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wno-error"
make -C "$OUT/build" -s -j2 PG_CONFIG="$PG_CONFIG" CC=clang with_llvm=no CFLAGS="$SAN" PG_CFLAGS="-Wno-ignored-attributes" || exit 1

# 2. A staged PostgreSQL copy with that build installed.
INST=$OUT/install
mkdir -p "$INST$PG_BINDIR" "$INST$PG_LIBDIR" "$INST$PG_SHAREDIR"
cp -p "$PG_BINDIR"/* "$INST$PG_BINDIR/"
cp -rs "$PG_LIBDIR/." "$INST$PG_LIBDIR/"
cp -rs "$PG_SHAREDIR/." "$INST$PG_SHAREDIR/"
rm -f "$INST$PG_LIBDIR"/pg_lowcode* "$INST$PG_SHAREDIR"/extension/pg_lowcode*
make -C "$OUT/build" -s install DESTDIR="$INST" PG_CONFIG="$PG_CONFIG" CC=clang with_llvm=no CFLAGS="$SAN" PG_CFLAGS="-Wno-ignored-attributes" >/dev/null || exit 1

nm -D "$INST$PG_LIBDIR/pg_lowcode.so" | grep -c __asan_init >/dev/null || { echo "pg_lowcode.so is not instrumented"; exit 1; }

# 3. The staged "postgres" becomes the sanitizer launcher; initdb and
#    pg_regress find it there (the other programs run as they are).
"$TOP/test/fuzz/pg_as_library.sh" "$OUT/pglib"
clang -g -O1 -fsanitize=address,undefined "$TOP/scripts/asan_postgres.c" \
  -L"$OUT/pglib/stub" -lpostgres -ldl -Wl,-rpath,"$OUT/pglib/lib" -o "$INST$PG_BINDIR/postgres" || exit 1
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0:log_path=$OUT/logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$OUT/logs/ubsan"
chmod -R a+rX "$OUT"
[ "$(id -u)" = 0 ] && chown -R "$RUN_AS" "$OUT"

# Sanitized stack frames are larger: the deep-nesting tests need more stack
# than the default 2MB to reach the limits they test (a 2000-level schema must
# reach the compiler's own LJ006 limit, not the stack limit).  With 7MB, one
# case ends in another clean error: the 20,000-deep JsonLogic rule now fits on
# the stack and is refused as too long (LR104) instead of at the stack limit
# (54001); the private copy of the expected output says so.
cat "$TOP/test/regress.conf" > "$OUT/regress.conf"
echo "max_stack_depth = '7MB'" >> "$OUT/regress.conf"
mkdir -p "$OUT/test"
cp -r "$TOP/test/sql" "$TOP/test/expected" "$OUT/test/"
python3 - "$OUT/test/expected/rules_jsonlogic.out" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = """ depth_20000            \n-----------------------------------\n 54001: stack depth limit exceeded\n"""
new = """ depth_20000            \n-----------------------------------\n LR104: JsonLogic rule is too long\n"""
assert old in s, "rules_jsonlogic.out changed: update scripts/asan.sh"
open(p, "w").write(s.replace(old, new))
PY

tests=("$@")
all=0
if [ ${#tests[@]} -eq 0 ]; then
  all=1
  for f in "$TOP"/test/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
fi
as_server_user "$PGXS_DIR/src/test/regress/pg_regress" \
  --temp-instance="$OUT/instance" --temp-config="$OUT/regress.conf" \
  --bindir="$INST$PG_BINDIR" --inputdir="$OUT/test" --outputdir="$OUT" \
  --port="$port" --dbname=contrib_regression --load-extension=pg_lowcode \
  "${tests[@]}"
rc=$?
# With no test named, the bad-input catalogue too: NULLs, huge values and deep
# nesting are where a memory error would hide.
if [ $all = 1 ]; then
  bad=()
  for f in "$TOP"/test/bad_input/sql/*.sql; do bad+=("$(basename "$f" .sql)"); done
  as_server_user mkdir -p "$OUT/bad_input"
  # The same larger stack lets PostgreSQL's own JSON parser read a 10,000-deep
  # rule that it refuses at the default stack depth (54001); pg_lowcode then
  # refuses it as too long (LR104).
  cp -r "$TOP/test/bad_input" "$OUT/bad_input_in"
  python3 - "$OUT/bad_input_in/expected/jsonlogic_apply.out" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = """ 10000) || 'true' || repeat(']}', 10000))::jsonb, '{}')::text => 54001: stack depth limit exceeded\n"""
new = """ 10000) || 'true' || repeat(']}', 10000))::jsonb, '{}')::text => LR104: JsonLogic rule is too long\n"""
assert old in s, "bad_input/expected/jsonlogic_apply.out changed: update scripts/asan.sh"
open(p, "w").write(s.replace(old, new))
PY
  chmod -R a+rX "$OUT/bad_input_in"
  as_server_user "$PGXS_DIR/src/test/regress/pg_regress" \
    --temp-instance="$OUT/instance_bad" --temp-config="$OUT/regress.conf" \
    --bindir="$INST$PG_BINDIR" --inputdir="$OUT/bad_input_in" --outputdir="$OUT/bad_input" \
    --port="$port" --dbname=contrib_regression --load-extension=pg_lowcode \
    "${bad[@]}" || rc=1
fi

# 4. Any sanitizer report fails the run: report files, or reports in the server log.
reports=$(ls "$OUT"/logs/ 2>/dev/null | wc -l)
inlog=$(grep -l -E "ERROR: AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer" "$OUT"/log/*.log "$OUT"/bad_input/log/*.log 2>/dev/null | wc -l)
for f in "$OUT"/logs/*; do [ -e "$f" ] && { echo "== $f"; head -60 "$f"; }; done
grep -h -A30 -E "ERROR: AddressSanitizer|runtime error:" "$OUT"/log/*.log "$OUT"/bad_input/log/*.log 2>/dev/null | head -100
echo "asan.sh: pg_regress exit status $rc, $reports sanitizer report file(s), $inlog server log(s) with a report; $(( $(date +%s) - start )) s"
[ "$rc" = 0 ] && [ "$reports" = 0 ] && [ "$inlog" = 0 ]
