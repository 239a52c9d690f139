# pg_lowcode -- built with PGXS.
#
# The install script pg_lowcode--$(EXTVERSION).sql is generated from the
# per-component parts in sql/NN_*.sql, concatenated in order, so that each
# component keeps its SQL beside its C code's concerns.  Older versions' install
# scripts (sql/pg_lowcode--X.sql, frozen) and the hand-written upgrade scripts
# (sql/pg_lowcode--A--B.sql) are installed as they are: see docs/hardening.md,
# "Upgrades".  Every change to sql/NN_*.sql goes into the upgrade script too.

EXTENSION  = pg_lowcode
EXTVERSION = 0.3.0

MODULE_big = pg_lowcode
SRCS       = $(sort $(wildcard src/*.c src/*/*.c))
OBJS       = $(SRCS:.c=.o)
HEADERS    = $(wildcard src/*.h src/*/*.h)

SQL_PARTS  = $(sort $(wildcard sql/[0-9][0-9]_*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
DATA       = $(filter-out $(SQL_PARTS),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = $(EXTENSION)--$(EXTVERSION).sql

# Tests, declared as pgvector does.  Against an installed server (PGHOST,
# PGPORT; it must have the settings of test/regress.conf):
#   make installcheck             the pg_regress suite test/sql
#   make installcheck-bad-input   the pg_regress suite test/bad_input
#   make prove_installcheck       the TAP tests (PROVE_TESTS=test/t/FILE.pl for one)
# Each pg_regress suite recreates the database contrib_regression, which the
# pg_cron launcher keeps open once it exists (cron.database_name): restart the
# server between two suites.  "make test" runs everything (and the sanitizer
# run) on private instances.
REGRESS      = $(sort $(patsubst test/sql/%.sql,%,$(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)
BAD_INPUT_REGRESS = $(sort $(patsubst test/bad_input/sql/%.sql,%,$(wildcard test/bad_input/sql/*.sql)))
TAP_TESTS    = 1
PROVE_TESTS ?= test/t/*.pl
EXTRA_CLEAN += results regression.diffs regression.out tmp_check_bad_input

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS   = -Wall -Werror -Wmissing-prototypes -Wno-declaration-after-statement
# PCRE2 (libpcre2-dev): the JIT matcher of JSON Schema patterns (src/lc/lc_regex_pcre2.c)
SHLIB_LINK  = -lpcre2-8

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# after PGXS, which sets PROVE_FLAGS: the project's Perl modules
PROVE_FLAGS += -I $(srcdir)/test/lib

$(OBJS): $(HEADERS)

# Benchmark-only functions (as pgvector's HNSW_BENCH): "make LOWCODE_BENCH=1"
# compiles their bodies (src/quota/quota_bench.c) and installs their SQL,
# sql/bench/pg_lowcode_bench.sql, which is not part of the extension.  The
# stamp file rebuilds quota_bench.o whenever the flag changes.
LOWCODE_BENCH ?= 0
BENCH_STAMP = src/quota/.lowcode_bench_flag
ifeq ($(LOWCODE_BENCH),1)
DATA += sql/bench/pg_lowcode_bench.sql
src/quota/quota_bench.o src/quota/quota_bench.bc: override CFLAGS += -DLOWCODE_BENCH
endif
$(BENCH_STAMP): FORCE
	@echo '$(LOWCODE_BENCH)' | cmp -s - $@ || echo '$(LOWCODE_BENCH)' > $@
src/quota/quota_bench.o: $(BENCH_STAMP)
.PHONY: FORCE
FORCE:
EXTRA_CLEAN += $(BENCH_STAMP)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

# The second pg_regress suite (bad input of every SQL function); its results
# go to tmp_check_bad_input/.
.PHONY: installcheck-bad-input
installcheck-bad-input:
	$(MKDIR_P) tmp_check_bad_input
	$(pg_regress_installcheck) --inputdir=test/bad_input --outputdir=tmp_check_bad_input \
		--dbname=$(CONTRIB_TESTDB) --load-extension=$(EXTENSION) $(BAD_INPUT_REGRESS)

# The TAP tests find the checkout (conformance data, frozen scripts) here.
export LOWCODE_TOP ?= $(CURDIR)

# The TAP tests alone (pgvector's target; PGXS runs them after the
# pg_regress suite in "make installcheck" since TAP_TESTS is set).
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)

# The README's second command: the whole test suite (pg_regress + TAP +
# conformance runners) against a temporary instance.
.PHONY: test
test:
	scripts/test.sh
