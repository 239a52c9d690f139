#!/bin/sh
# Make the Debian postgres executable usable as a shared library, for the JSON
# Schema fuzz harness and scripts/asan.sh:
#   test/fuzz/pg_as_library.sh OUTDIR
# writes OUTDIR/lib/libpostgres.so, a copy of postgres with DF_1_PIE cleared
# (the dynamic loader refuses to load a PIE as a dependency), and
# OUTDIR/stub/libpostgres.so, a link-time stub exporting the same names (ld
# cannot link against an executable's symbol versions).  Link with
# -LOUTDIR/stub -lpostgres -Wl,-rpath,OUTDIR/lib: the real copy is loaded.
set -eu
FUZZ=$(cd "$(dirname "$0")" && pwd)
OUT=$1
PG=$(/usr/lib/postgresql/15/bin/pg_config --bindir)/postgres
mkdir -p "$OUT/lib" "$OUT/stub"
if [ -f "$OUT/lib/libpostgres.so" ] && [ ! "$PG" -nt "$OUT/lib/libpostgres.so" ]; then exit 0; fi
python3 "$FUZZ/depie.py" "$PG" "$OUT/lib/libpostgres.so"
nm -D --defined-only "$OUT/lib/libpostgres.so" | awk '
  $3 ~ /@/ || $3 ~ /^(main|_init|_fini|_start|_edata|_end|__bss_start|_IO_stdin_used)$/ {next}
  $2 ~ /^[TtWi]$/ {print "void " $3 "(void) {}"; next}
  $2 ~ /^[DdBbRrVG]$/ {print "char " $3 "[1];"}' > "$OUT/stub/stub.c"
clang -shared -fPIC -w -Wl,-soname,libpostgres.so -o "$OUT/stub/libpostgres.so" "$OUT/stub/stub.c"
