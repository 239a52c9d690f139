# Workflows under crashes, restarts and concurrency (docs/workflows.md):
#   1. a backend killed (SIGKILL) in the middle of a transition, after the
#      instance and the record were written and before the commit: after crash
#      recovery nothing of the transition is there (state, record, history,
#      outbox event, counters);
#   2. the postmaster killed while a client fires events one per transaction:
#      every event the client saw commit is there, the record's counter, the
#      history, the outbox and the instance agree (nothing lost, nothing twice);
#   3. timers survive a clean restart and a crash: timers armed before the
#      restart fire after it, once each; the database worker killed while it
#      fires a batch of timers: after recovery every timer has fired exactly once;
#   4. two sessions firing events on one record are serialised: the second
#      waits for the first's commit and then sees the state it left (a final
#      state: LW409); two clients pinging one record 200 times each leave it
#      at 400.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use LowcodeTest;

my $node = lowcode_node('workflow_crash', conf => join("\n",
	"lowcode.sweep_interval = '200ms'",
	"lowcode.workflow_timer_batch = 10",
	'restart_after_crash = on'));
my $dir = PostgreSQL::Test::Utils::tempdir;
my $psql = $node->installed_command('psql');

sub query { return $node->safe_psql('postgres', $_[0]); }

my $t = query("SELECT lowcode.create_tenant('wf-crash', NULL, 'enterprise')");
my $ctx = qq{DO \$\$ BEGIN PERFORM set_config('request.jwt.claims', '{"tenant_id": "$t", "sub": "tap"}', false); END \$\$;};

query(q{
CREATE TABLE items (id int PRIMARY KEY, state text, n int NOT NULL DEFAULT 0,
                    tenant_id uuid NOT NULL DEFAULT lowcode.current_tenant());
CREATE FUNCTION nap(ctx jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb FROM pg_sleep(60) $$;
CREATE FUNCTION nap_short(ctx jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb FROM pg_sleep(0.02) $$;
SELECT lowcode.register_workflow_function('nap', 'nap(jsonb)');
SELECT lowcode.register_workflow_function('nap_short', 'nap_short(jsonb)');
SELECT lowcode.attach_workflow('items', 'item');
});
query($ctx . q{
SELECT lowcode.register_workflow('item', '{"initial": "idle", "states": {
  "idle": {"on": {
    "ping": {"actions": [{"type": "set", "fields": {"n": "self.n + 1"}}]},
    "slow": {"target": "done", "actions": [{"type": "set", "fields": {"n": "self.n + 100"}},
                                           {"type": "emit", "event": "item.slow"}, {"type": "call", "function": "nap"}]},
    "arm": {"target": "waiting"},
    "approve": {"target": "done"},
    "reject": {"target": "done"}}},
  "waiting": {"timers": [{"id": "t", "at": "timestamp(payload.at)", "event": "wake"}],
              "on": {"wake": {"target": "woken", "actions": [{"type": "call", "function": "nap_short"},
                                                           {"type": "set", "fields": {"n": "self.n + 1"}}]}}},
  "woken": {"type": "final"},
  "done": {"type": "final"}}}');
INSERT INTO items (id) SELECT generate_series(1, 400);
});

sub write_file
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	print $fh $text;
	close $fh;
}

sub start_psql
{
	my ($name, $body) = @_;
	my $file = "$dir/$name.sql";
	write_file($file, "$ctx\n$body");
	my $out = "$dir/$name.out";
	local $ENV{PGAPPNAME} = "wf_$name";
	my $h = IPC::Run::start([ $psql, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr('postgres'), '-f', $file ], '<', \undef, '>', $out, '2>', "$dir/$name.err");
	return { h => $h, out => $out, err => "$dir/$name.err" };
}

sub finish_psql
{
	my ($w) = @_;
	my $deadline = time + 60;
	while ($w->{h}->pumpable && time < $deadline) { sleep 0.05; eval { $w->{h}->pump_nb; }; }
	if ($w->{h}->pumpable) { $w->{h}->kill_kill; } else { eval { $w->{h}->finish; }; }
	open(my $fh, '<', $w->{out}) or return ();
	my @l = grep { /\S/ } <$fh>;
	close $fh;
	chomp @l;
	return @l;
}

sub wait_recovered
{
	my ($what) = @_;
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'), "$what: the server accepts connections again");
	ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'}), "$what: the database worker is back");
}

# consistency of one record: n, the history, the outbox and the instance agree
sub check_record
{
	my ($id, $what) = @_;
	my $r = query(qq{
		SELECT i.n, w.transitions,
		       (SELECT count(*) FROM lowcode.workflow_history h WHERE h.instance_id = w.id AND h.outcome = 'transition'),
		       (SELECT count(*) FROM lowcode.events e WHERE e.type = 'workflow.transition' AND (e.payload ->> 'instance')::bigint = w.id),
		       w.state = i.state, w.snapshot ->> 'n' = i.n::text
		  FROM items i JOIN lowcode.workflow_instances w ON w.rel = 'items'::regclass AND w.record_key = i.id::text
		 WHERE i.id = $id});
	my ($n, $transitions, $history, $events, $same_state, $same_snapshot) = split /\|/, $r;
	is($history, $transitions, "$what: one history row per transition");
	is($events, $transitions, "$what: one outbox event per transition");
	is($same_state, 't', "$what: the record's state is the instance's");
	return ($n, $transitions);
}

# --- 1. a backend killed in the middle of a transition
my $slow = start_psql('slow', q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'slow');});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'wf_slow' AND wait_event = 'PgSleep'}), 'the slow transition is under way (in its call action)');
my $victim = query(q{SELECT pid FROM pg_stat_activity WHERE application_name = 'wf_slow'});
my $log_offset = -s $node->logfile;
kill 'KILL', $victim;
finish_psql($slow);
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset), 'the kill made the server reinitialise');
wait_recovered('kill in a transition');
is(query(q{SELECT state || ' ' || n FROM items WHERE id = 1}), 'idle 0', 'nothing of the killed transition is in the record');
is(query(q{SELECT state || ' ' || transitions FROM lowcode.workflow_instances WHERE record_key = '1'}), 'idle 0',
	'...nor in the instance');
is(query(q{SELECT count(*) FROM lowcode.workflow_history WHERE record_key = '1' AND outcome <> 'created'}), '0', '...nor in the history');
is(query(q{SELECT count(*) FROM lowcode.events WHERE type IN ('item.slow', 'workflow.transition')}), '0', '...nor in the outbox');
# and the record takes events again
is(query($ctx . q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'approve') ->> 'to'}), "done", 'the record takes events after recovery');

# --- 2. the postmaster killed while a client fires events
my $pinger = start_psql('pinger', join('', map { qq{SELECT lowcode.fire('{"table": "items", "id": 2}', 'ping') -> 'record' ->> 'n';\n} } 1 .. 5000));
sleep 1.5;
my $pm = $node->{_pid};
$node->kill9;
my @acked = finish_psql($pinger);
my $deadline = time + 60;
while (kill(0, $pm) && time < $deadline) { sleep 0.1; }
$node->start;
wait_recovered('postmaster killed');
cmp_ok(scalar(@acked), '>', 10, 'the client saw events commit before the kill (' . scalar(@acked) . ')');
my ($n, $transitions) = check_record(2, 'postmaster killed');
cmp_ok($n, '>=', $acked[-1], 'no committed event lost');
cmp_ok($n, '<=', $acked[-1] + 1, 'at most the one in flight committed unseen');
is($transitions, $n, 'every ping applied once: n = transitions');

# --- 3. timers across a clean restart, and a crash of the worker while it fires them
query($ctx . q{SELECT count(lowcode.fire(jsonb_build_object('table', 'items', 'id', g), 'arm',
	jsonb_build_object('at', clock_timestamp() + interval '3 seconds'))) FROM generate_series(11, 60) g});
is(query(q{SELECT count(*) FROM lowcode.workflow_timers}), '50', '50 timers armed');
$node->restart;
ok($node->poll_query_until('postgres', q{SELECT count(*) = 50 FROM items WHERE id BETWEEN 11 AND 60 AND state = 'woken'}),
	'timers armed before a restart fire after it');
is(query(q{SELECT count(*) FROM lowcode.workflow_history WHERE event = 'wake' AND record_key::int BETWEEN 11 AND 60}), '50',
	'...each once');
is(query(q{SELECT count(*) FROM items WHERE id BETWEEN 11 AND 60 AND n <> 1}), '0', '...each applied once');

# 300 timers due at once, 10 per batch, 20 ms each: the worker is killed while it fires them
query($ctx . q{SELECT count(lowcode.fire(jsonb_build_object('table', 'items', 'id', g), 'arm',
	jsonb_build_object('at', clock_timestamp() + interval '1 second'))) FROM generate_series(101, 400) g});
ok($node->poll_query_until('postgres', q{SELECT count(*) BETWEEN 10 AND 250 FROM items WHERE id > 100 AND state = 'woken'}),
	'the worker is firing the timers');
$log_offset = -s $node->logfile;
my $worker = query(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'});
my $before = query(q{SELECT count(*) FROM items WHERE id > 100 AND state = 'woken'});
kill 'KILL', $worker;
ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset), 'the worker killed mid-batch');
wait_recovered('worker killed');
cmp_ok($before, '<', 300, "the kill came before all timers had fired ($before of 300)");
ok($node->poll_query_until('postgres', q{SELECT count(*) = 300 FROM items WHERE id > 100 AND state = 'woken'}),
	'after recovery every timer fires');
is(query(q{SELECT count(*) FROM lowcode.workflow_timers}), '0', 'no timer left');
is(query(q{SELECT count(*) FROM items WHERE id > 100 AND n <> 1}), '0', 'no timer fired twice (each record woken once)');
is(query(q{SELECT count(*) FROM (SELECT record_key FROM lowcode.workflow_history WHERE event = 'wake' GROUP BY record_key
	HAVING count(*) <> 1) x}), '0', '...and one history row each');
is(query(q{SELECT sum(timers) FROM lowcode.workflow_counters}), '0', 'the timer count of the quotas agrees');

# --- 4. two sessions firing events on one record
my $holder = start_psql('holder', q{BEGIN;
SELECT lowcode.fire('{"table": "items", "id": 3}', 'approve') ->> 'to';
SELECT pg_sleep(2);
COMMIT;
});
ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'wf_holder' AND wait_event = 'PgSleep'}), 'session 1 holds its transition open');
my $t0 = time;
my ($rc, $out, $err) = $node->psql('postgres', $ctx . q{SELECT lowcode.fire('{"table": "items", "id": 3}', 'reject')});
my $waited = time - $t0;
finish_psql($holder);
cmp_ok($waited, '>', 0.5, sprintf('session 2 waited for session 1 (%.1f s)', $waited));
like($err, qr/LW409.*final state done/, "session 2 then sees the state session 1 left: 409");
is(query(q{SELECT count(*) FROM lowcode.workflow_history WHERE record_key = '3' AND outcome = 'transition'}), '1',
	'one transition on the record');

my @pingers = map { start_psql("ping$_", join('', map { qq{SELECT lowcode.fire('{"table": "items", "id": 4}', 'ping') IS NOT NULL;\n} } 1 .. 200)) } 1 .. 2;
my @done = map { finish_psql($_) } @pingers;
is(scalar(grep { $_ eq 't' } @done), 400, 'two clients fired 400 events on one record, none refused');
($n, $transitions) = check_record(4, 'concurrent pings');
is($n, 400, 'the record counted all 400');

done_testing();
