# A backlog of due workflow timers is fired at lowcode.workflow_timer_share of
# the database worker's time (docs/workflows.md, "Timers"): after a full batch
# the worker pauses in proportion to the batch's time.  During the pause it
# still delivers events at once, it takes a reload of the share at once, and
# every timer of the backlog fires exactly once.
#
# The pause is (100 - share) / share times the batch's time: with a share of
# 1 % and batches of 10 timers that each sleep 20 ms in an action, at least
# 0.2 s x 99 = 19.8 s, however slow the machine (a slower batch makes a longer
# pause).  The checks made inside it take a few seconds.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('wf_backlog', conf => join("\n",
	"lowcode.sweep_interval = '200ms'",
	"lowcode.workflow_timer_batch = 10",
	"lowcode.workflow_timer_share = 1"));

sub query { return $node->safe_psql('postgres', $_[0]); }

my $t = query("SELECT lowcode.create_tenant('wf-backlog', NULL, 'enterprise')");
my $ctx = qq{DO \$\$ BEGIN PERFORM set_config('request.jwt.claims', '{"tenant_id": "$t", "sub": "tap"}', false); END \$\$;};

query(q{
CREATE TABLE items (id int PRIMARY KEY, state text, n int NOT NULL DEFAULT 0,
                    tenant_id uuid NOT NULL DEFAULT lowcode.current_tenant());
CREATE FUNCTION nap_short(ctx jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb FROM pg_sleep(0.02) $$;
SELECT lowcode.register_workflow_function('nap_short', 'nap_short(jsonb)');
SELECT lowcode.attach_workflow('items', 'item');
});
query($ctx . q{
SELECT lowcode.register_workflow('item', '{"initial": "idle", "states": {
  "idle": {"on": {"arm": {"target": "waiting"}}},
  "waiting": {"timers": [{"id": "t", "at": "timestamp(payload.at)", "event": "wake"}],
              "on": {"wake": {"target": "woken", "actions": [{"type": "call", "function": "nap_short"},
                                                           {"type": "set", "fields": {"n": "self.n + 1"}}]}}},
  "woken": {"type": "final"}}}');
INSERT INTO items (id) SELECT generate_series(1, 100);
});

# 100 timers due at once: ten full batches
query($ctx . q{SELECT count(lowcode.fire(jsonb_build_object('table', 'items', 'id', g), 'arm',
                                          jsonb_build_object('at', now()))) FROM generate_series(1, 100) g});
my $fired_sql = q{SELECT count(*) FROM items WHERE n > 0};
ok($node->poll_query_until('postgres', "SELECT ($fired_sql) >= 10"), 'the worker fired a first batch');
my $first = query($fired_sql);

# in the pause: events are delivered at once
my $chan = query("SELECT lowcode.event_channel('$t')");
my $heard = query(qq{
	LISTEN "$chan";
	SELECT lowcode.emit_event('$t', 'test.backlog', '{}') > 0;
	SELECT pg_sleep(3);
	SELECT 1;
});
like($heard, qr/Asynchronous notification "\Q$chan\E" with payload ".*"type":"test\.backlog"}" received/,
	'an event emitted while the worker pauses on its backlog is delivered');
is(query($fired_sql), $first, 'meanwhile no further batch fired (the worker pauses for at least 19.8 s)');
cmp_ok($first, '<', 100, 'a backlog remains');

# a reload of the share ends the pause; the rest fires, every timer once
query("ALTER SYSTEM SET lowcode.workflow_timer_share = 100");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT ($fired_sql) = 100", 't'), 'with a share of 100 the backlog fires');
is(query(q{SELECT count(*) FILTER (WHERE n = 1) || ' ' || count(*) FILTER (WHERE state = 'woken') FROM items}),
	'100 100', 'every item fired once and reached its final state');
is(query(q{SELECT count(*) FROM lowcode.workflow_history WHERE event = 'wake'}), '100', 'one history row per timer');
is(query(q{SELECT count(*) FROM lowcode.workflow_timers}), '0', 'no timer left');

done_testing();
