#!/usr/bin/env bash
# Runs the pg_regress suite with every server process under valgrind memcheck
# and reports the errors whose stack goes through pg_lowcode.so.
#   scripts/valgrind.sh [TEST...]      (default: every test/sql test)
# Exit status 1 when such an error was found.  Takes 10-20 minutes.
set -uo pipefail
source "$(dirname "$0")/common.sh"
if [ "$(id -u)" = 0 ]; then "$TOP/scripts/install-deps.sh"; command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null; fi
stage_install || exit 1

OUT=$TOP/tmp_check/valgrind
VGBIN=$OUT/bin
rm -rf "$OUT"; mkdir -p "$VGBIN" "$OUT/logs"
[ "$(id -u)" = 0 ] && chown -R "$RUN_AS" "$TOP/tmp_check"
for f in "$STAGE_BIN"/*; do ln -s "$f" "$VGBIN/$(basename "$f")"; done
rm "$VGBIN/postgres"
cat > "$VGBIN/postgres" <<WRAP
#!/bin/sh
# -V / --describe-config etc. need no instrumentation
case "\$1" in -V|--version|-C|--describe-config) exec "$STAGE_BIN/postgres" "\$@";; esac
exec valgrind --quiet --trace-children=yes --leak-check=no --num-callers=30 --error-limit=no \
  --read-var-info=no --log-file="$OUT/logs/vg.%p.log" "$STAGE_BIN/postgres" "\$@"
WRAP
chmod 755 "$VGBIN/postgres"
as_server_user true

tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  for f in "$TOP"/test/sql/*.sql; do
    t=$(basename "$f" .sql)
    # quota_rate asserts token-bucket refills against the wall clock: under
    # valgrind's 20-50x slowdown a second passes between two requests and the
    # bucket refills, so its output differs without any memory error.
    [ "$t" = quota_rate ] && continue
    tests+=("$t")
  done
fi
as_server_user "$PGXS_DIR/src/test/regress/pg_regress" \
  --temp-instance="$OUT/instance" --temp-config="$TOP/test/regress.conf" \
  --bindir="$VGBIN" --inputdir="$TOP/test" --outputdir="$OUT" \
  --port="${LOWCODE_VALGRIND_PORT:-55401}" --dbname=contrib_regression --load-extension=pg_lowcode \
  "${tests[@]}"
rc=$?

# Keep the reports whose stack mentions pg_lowcode.so.
python3 - "$OUT/logs" <<'PY'
import glob, re, sys
found = 0
for path in sorted(glob.glob(sys.argv[1] + "/vg.*.log")):
    text = open(path, errors="replace").read()
    for block in re.split(r"\n(?===\d+== \S)", text):
        if "pg_lowcode.so" in block and re.search(r"Invalid (read|write|free)|uninitialised|Mismatched|overlap|Syscall param", block):
            found += 1
            print(block[:3000])
            print("-" * 60)
print(f"valgrind: {found} error(s) in pg_lowcode code")
sys.exit(1 if found else 0)
PY
vg=$?
echo "pg_regress exit status under valgrind: $rc"
exit $(( vg || rc ))
