#!/usr/bin/env python3
"""Instructions of one transaction, by function, from callgrind (bench/submit_scaling.sh, BENCH_CALLGRIND).

Usage: callgrind_tx.py N SHORT.txt LONG.txt WORKER_SHORT.txt WORKER_LONG.txt

SHORT and LONG are `callgrind_annotate --inclusive=yes` outputs of two backends that ran the same
pgbench script for 200 and 200 + N transactions: (LONG - SHORT) / N is the cost of one warm
transaction, function by function (inclusive counts).  WORKER_* are the database worker's counts
over the same two runs (a worker started before each run and ended after it).

Prints: the total per transaction (backend, worker), then the groups of the table in
docs/benchmarks.md, then the 60 most expensive functions per transaction.
"""
import re
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\*\s+)?(\S.*?)(?:\s+\[[^\]]*\])?\s*$")


def load(path):
    total = 0
    fns = {}
    with open(path) as f:
        for line in f:
            if "PROGRAM TOTALS" in line:
                total = int(line.split()[0].replace(",", ""))
                continue
            m = LINE.match(line)
            if not m:
                continue
            name = m.group(2)
            name = name.split(":", 1)[1] if ":" in name and not name.startswith("???") else name.split(":")[-1]
            name = re.sub(r"'\d+$", "", name)  # a recursion level: the outermost counts all
            n = int(m.group(1).replace(",", ""))
            # a function can appear once per file; keep the largest inclusive count
            fns[name] = max(fns.get(name, 0), n)
    return total, fns


# (label, functions whose inclusive counts make the group); static functions of the server (its
# binary has no debug symbols) show as addresses, so the groups use exported functions
GROUPS = [
    ("transaction start (StartTransactionCommand)", "StartTransactionCommand"),
    ("set_config x7 (set_config_by_name)", "set_config_by_name"),
    ("pre_request()", "lowcode_pre_request"),
    ("  tenancy step", "tenancy_pre_request"),
    ("  session step", "session_pre_request"),
    ("  quota step", "quota_pre_request"),
    ("lowcode.submit()", "lowcode_submit"),
    ("  SPI_execute_plan (the INSERT)", "SPI_execute_plan"),
    ("BEFORE row triggers (ExecBRInsertTriggers)", "ExecBRInsertTriggers"),
    ("  validation trigger", "lowcode_registry_validate_trigger"),
    ("    x-rules (registry_rules_validate)", "registry_rules_validate"),
    ("  quota trigger", "lowcode_quota_row_trigger"),
    ("  workflow WHEN", "lowcode_workflow_subject_governed"),
    ("AFTER row triggers (AfterTriggerEndQuery)", "AfterTriggerEndQuery"),
    ("  audit row + event (lowcode_submissions_record_row)", "lowcode_submissions_record_row"),
    ("heap inserts (heap_insert)", "heap_insert"),
    ("index entries (ExecInsertIndexTuples)", "ExecInsertIndexTuples"),
    ("  btree inserts (btinsert)", "btinsert"),
    ("CHECK / NOT NULL (ExecConstraints)", "ExecConstraints"),
    ("planning and plan checks (GetCachedPlan)", "GetCachedPlan"),
    ("  of which planner", "standard_planner"),
    ("executor start (standard_ExecutorStart)", "standard_ExecutorStart"),
    ("  of which ExecInitNode", "ExecInitNode"),
    ("executor end (standard_ExecutorEnd)", "standard_ExecutorEnd"),
    ("PortalStart (all statements)", "PortalStart"),
    ("PortalRun (all statements)", "PortalRun"),
    ("CommitTransactionCommand (COMMIT and per-message ends)", "CommitTransactionCommand"),
    ("  WAL flush (XLogFlush)", "XLogFlush"),
    ("  events handed to the worker", "events_xact_callback"),
    ("WAL records (XLogInsert, all)", "XLogInsert"),
    ("catalog cache lookups (SearchCatCache*)", "SearchCatCache1"),
    ("relation open (relation_open)", "relation_open"),
    ("lock manager (LockAcquireExtended)", "LockAcquireExtended"),
    ("JSON parsing (pg_parse_json)", "pg_parse_json"),
    ("socket (secure_read + secure_write)", "secure_read", "secure_write"),
    ("palloc/free (AllocSetAlloc)", "AllocSetAlloc"),
]


def main():
    n = int(sys.argv[1])
    ts, short = load(sys.argv[2])
    tl, long_ = load(sys.argv[3])
    tws, wshort = load(sys.argv[4])
    twl, wlong = load(sys.argv[5])
    per = {k: (long_.get(k, 0) - short.get(k, 0)) / n for k in set(long_) | set(short)}
    wper = {k: (wlong.get(k, 0) - wshort.get(k, 0)) / n for k in set(wlong) | set(wshort)}
    # PROGRAM TOTALS of a forked process is not its own count: the backend is PostgresMain, the
    # worker its main function
    total = per.get("PostgresMain", 0)
    wtotal = wper.get("StartBackgroundWorker", 0)
    # the worker's sweeps run once a second whatever the load (and a run under callgrind is slow):
    # what a submission costs it is its delivery
    wdeliver = wper.get("events_deliver", 0)
    print("backend %.0f instructions/tx; database worker %.0f (of which event delivery %.0f)" % (total, wtotal, wdeliver))
    for label, *fns in GROUPS:
        v = sum(per.get(f, 0) for f in fns)
        print("%-58s %10.0f  %5.1f%%" % (label, v, 100 * v / total if total else 0))
    print("%-58s %10.0f" % ("database worker: event delivery (events_deliver)", wdeliver))
    print("%-58s %10.0f" % ("  of which NOTIFY of one event (notify_now)", wper.get("notify_now", 0)))
    print("%-58s %10.0f" % ("  of which channel names (channel_name)", wper.get("channel_name", 0)))
    print("%-58s %10.0f" % ("  of which the secret (ensure_secret)", wper.get("ensure_secret", 0)))
    wsec = sorted(((v, k) for k, v in wper.items()), reverse=True)[:40]
    print()
    print("top functions, per transaction (inclusive):")
    for v, k in sorted(((v, k) for k, v in per.items()), reverse=True)[:80]:
        print("%10.0f  %s" % (v, k))
    print()
    print("database worker, per transaction (inclusive):")
    for v, k in wsec:
        print("%10.0f  %s" % (v, k))


main()
