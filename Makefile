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

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS   = -Wall -Werror -Wmissing-prototypes -Wno-declaration-after-statement
# PCRE2 (libpcre2-dev): the JIT matcher of JSON Schema patterns (src/lc/lc_regex_pcre2.c)
SHLIB_LINK  = -lpcre2-8

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(HEADERS)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $^ > $@

# The README's second command: the whole test suite (pg_regress + TAP +
# conformance runners) against a temporary instance.
.PHONY: test
test:
	scripts/test.sh
