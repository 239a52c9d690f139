# Crash safety: kill -9 while concurrent writers work, then check invariants.
#
# Each round starts these workloads at once, each a psql process running a
# script of short transactions that prints a line only after its COMMIT
# returned (so every printed line is a transaction the client saw commit,
# synchronous_commit = on):
#   registry   register_schema (new versions), set_compatibility, deprecate_schema (tenant A)
#   submit     lowcode.submit, multi-row INSERT INTO lowcode.submissions, status updates (tenant A)
#   touch      pre_request() with a session id: last-seen times in shared memory (tenant B)
#   revoke     revoke_session() of sessions the worker is expiring meanwhile (tenant B)
#   usage      pre_request() + submit: usage counters (tenant C)
#   flusher    lowcode.flush_usage() in a transaction that stays open 50 ms
# while the database worker (lowcode.sweep_interval = 200ms, batches of 200)
# expires ~1500 sessions that fall due during the round.  After a random
# 1.5-3.5 s one process is killed with SIGKILL: the postmaster (then the
# orphaned backends end, and the server is started again: crash recovery), or
# one backend (the postmaster then reinitialises: registry writer, submission
# writer, the database worker caught in its expiry step, the flusher caught
# in its open flush transaction, the revoker).  Then:
#   - no committed transaction lost: every printed id/version/revocation is
#     there, and a revoked session's next request is refused;
#   - nothing half applied: a schema version exists iff its schema_registered
#     audit row and event do; every registry audit row has its event and vice
#     versa; a deprecated version iff its schema_deprecated audit row; the
#     subject's mode is the one of its last compatibility_set audit row; a
#     submission iff its submission_created audit row and event; an approved
#     submission iff its submission_updated audit row; a session is expired iff
#     it has exactly one session.expired event, and only once it was due;
#     every session has its timer (lowcode.session_timers);
#   - no session resurrected: every session ended before the kill is still
#     ended, in the same state; sessions no one revoked and not due are active;
#   - last_seen_at: every touch made more than 1 s ($loss_bound) before the
#     kill is in the table (docs/sessions.md: at most one sweep interval is lost);
#   - usage: tenant_usage grew by at least the work acknowledged more than
#     1 s before the kill and by at most the work attempted (never
#     counted twice); storage figures likewise, and reconcile_storage() makes
#     them exact (docs/quotas.md);
#   - the launcher and the database worker are back within 20 s and expire
#     the sessions that fell due meanwhile, each with its event.
# Before the rounds: a lowcode.sweep() rolled back (or rolled back to a
# savepoint) leaves its last-seen times to be flushed (it used to mark them
# flushed at once: a crash however late then lost them).
# LOWCODE_CRASH_SEED=<n> replays a run's random kill points (the seed is
# printed); LOWCODE_CRASH_ROUNDS=<n> runs only the first n rounds.
# See docs/hardening.md, "Crash safety".
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use LowcodeTest;

my $seed = $ENV{LOWCODE_CRASH_SEED} // (int(time * 1000) % 1000000);
srand($seed);
note "random seed $seed (LOWCODE_CRASH_SEED=$seed replays the kill points)";

# Work acknowledged this long before the kill must have been flushed: one
# sweep interval (200 ms), plus the time a sweep itself takes (the flush of
# last-seen times is its first step, the usage flush its last, after an
# expiry step of up to ~1500 sessions), plus scheduling on a loaded machine.
my $loss_bound = 1.0;
my $interval_ms = 200;

my $node = lowcode_node('crash', conf => join("\n",
	'restart_after_crash = on',
	'synchronous_commit = on',
	"lowcode.sweep_interval = '${interval_ms}ms'",
	'lowcode.sweep_batch_size = 200',
	'lowcode.rate_limiting = off',
	''));
my $dir = PostgreSQL::Test::Utils::tempdir;
my $psql = $node->installed_command('psql');

sub query { return $node->safe_psql('postgres', $_[0]); }

# ------------------------------------------------------------------ set-up
my $ta = query("SELECT lowcode.create_tenant('crash-a', NULL, 'enterprise')");
my $tb = query("SELECT lowcode.create_tenant('crash-b', NULL, 'enterprise')");
my $tc = query("SELECT lowcode.create_tenant('crash-c', NULL, 'enterprise')");
my $claims_a = qq({"tenant_id":"$ta"});
my $claims_c = qq({"tenant_id":"$tc"});
query(qq{
	SET request.jwt.claims = '$claims_a';
	SELECT lowcode.register_schema('crash-form', '{"type":"object","title":"setup","properties":{"f":{"type":"string"}}}');
	SELECT lowcode.register_schema('crash-sub', '{"type":"object","required":["n"],
	  "properties":{"n":{"type":"integer"},"w":{"type":"string"}},
	  "x-rules":[{"rule":"n >= 0","message":"n must not be negative","path":"/n"}]}');
	SET request.jwt.claims = '$claims_c';
	SELECT lowcode.register_schema('usage-form', '{"type":"object","required":["k"]}');
});
# Finds a process in a given activity, waiting up to timeout_s (server side: no client round trips).
query(q{
	CREATE FUNCTION public.crash_wait_active(bt text, app text, pat text, timeout_s float8) RETURNS int
	LANGUAGE plpgsql AS $$
	DECLARE p int; t0 timestamptz := clock_timestamp();
	BEGIN
	  LOOP
	    PERFORM pg_stat_clear_snapshot();
	    SELECT pid INTO p FROM pg_stat_activity
	     WHERE backend_type = bt AND (app IS NULL OR application_name = app)
	       AND state = 'active' AND query LIKE pat LIMIT 1;
	    IF p IS NOT NULL OR clock_timestamp() > t0 + make_interval(secs => timeout_s) THEN
	      RETURN p;
	    END IF;
	    PERFORM pg_sleep(0.002);
	  END LOOP;
	END $$;
});

# Cumulative client-side knowledge, over all rounds.
my %committed_version;     # version => title
my $committed_compat = 0;  # compatibility_set transactions seen committed
my %committed_dep;         # version => 1
my %committed_sub;         # submission id => "n" (or '' for multi-row ones)
my %committed_appr;        # submission id => 1
my %revoked;               # session id => 1 (revoke_session returned true, committed)
my %ended;                 # session id => state, as seen committed before a kill or after a check

# ------------------------------------------------------------------ helpers
sub write_file
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "cannot write $path: $!";
	print $fh $text;
	close $fh;
}

# Start a psql running a script; it prints "pid <backend pid>" first.
sub start_psql
{
	my ($name, $round, $body, $appname) = @_;
	my $file = "$dir/$name.$round.sql";
	write_file($file, "SELECT pg_backend_pid() AS pid \\gset\n\\echo pid :pid\n" . $body);
	my $out = "$dir/$name.$round.out";
	my $err = "$dir/$name.$round.err";
	local $ENV{PGAPPNAME} = $appname // "crash_$name";
	my $h = IPC::Run::start([ $psql, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
		'-d', $node->connstr('postgres'), '-f', $file ], '<', \undef, '>', $out, '2>', $err);
	return { name => $name, round => $round, h => $h, out => $out, err => $err };
}

sub read_lines
{
	my ($path) = @_;
	open(my $fh, '<', $path) or return ();
	my @l = <$fh>;
	close $fh;
	chomp @l;
	return @l;
}

# The backend pid a writer printed (waits for it).
sub writer_pid
{
	my ($w) = @_;
	for (1 .. 200)
	{
		for (read_lines($w->{out}))
		{
			return $1 if /^pid (\d+)$/;
		}
		sleep 0.02;
	}
	die "$w->{name}: no backend pid";
}

# Wait for a writer's psql to end (it loses its connection at the crash).
sub finish_writer
{
	my ($w) = @_;
	my $deadline = time + 30;
	while ($w->{h}->pumpable && time < $deadline)
	{
		sleep 0.05;
		eval { $w->{h}->pump_nb; };
	}
	if ($w->{h}->pumpable) { $w->{h}->kill_kill; }
	else { eval { $w->{h}->finish; }; }
	my @lines = read_lines($w->{out});
	my @err = read_lines($w->{err});
	# Only the lost connection may end a writer early (FATAL, WARNING, "connection to server was
	# lost"): an ERROR of any statement is a failure.
	my @bad = grep { /ERROR:/ } @err;
	is(join("\n", @bad), "", "round $w->{round}: $w->{name}: no error but the lost connection");
	return @lines;
}

sub sql_list { return join(',', map { "'$_'" } @_); }

# Child processes of the postmaster.
sub children_of
{
	my ($pm) = @_;
	my $out = `ps -o pid= --ppid $pm`;
	return grep { /^\d+$/ } map { s/\s//gr } split /\n/, $out;
}

sub alive
{
	my ($pid) = @_;
	my $stat = `ps -o stat= -p $pid`;
	$stat =~ s/\s//g;
	return $stat ne '' && $stat !~ /^Z/;
}

# ------------------------------------------------------------------ scripts
sub registry_script
{
	my ($r, $n) = @_;
	my $s = "SET request.jwt.claims = '$claims_a';\n";
	my @modes = ('FULL', 'FORWARD', 'NONE', 'BACKWARD');
	for my $i (1 .. $n)
	{
		my $title = "r$r-$i";
		$s .= "BEGIN;\nSELECT lowcode.register_schema('crash-form', '{\"type\":\"object\",\"title\":\"$title\","
		  . "\"properties\":{\"f\":{\"type\":\"string\"}}}') AS v \\gset\nCOMMIT;\n\\echo reg :v $title\n";
		if ($i % 5 == 0)
		{
			my $m = $modes[ ($i / 5) % 4 ];
			$s .= "BEGIN;\nSELECT lowcode.set_compatibility('crash-form', '$m') AS x \\gset\nCOMMIT;\n\\echo compat $m\n";
		}
		if ($i % 7 == 0)
		{
			$s .= "BEGIN;\nSELECT :v - 1 AS d, lowcode.deprecate_schema('crash-form', :v - 1) AS x \\gset\nCOMMIT;\n\\echo dep :d\n";
		}
	}
	return $s;
}

sub submit_script
{
	my ($r, $n) = @_;
	my $s = "SET request.jwt.claims = '$claims_a';\n";
	for my $i (1 .. $n)
	{
		$s .= "BEGIN;\nSELECT (lowcode.submit('crash-sub', '{\"n\": $i, \"w\": \"r$r\"}') ->> 'id') AS id \\gset\nCOMMIT;\n\\echo sub :id $i\n";
		if ($i % 4 == 0)
		{
			$s .= "BEGIN;\nWITH ins AS (INSERT INTO lowcode.submissions (subject, data) SELECT 'crash-sub', "
			  . "jsonb_build_object('n', $i * 10 + g, 'w', 'r$r') FROM generate_series(1, 5) g RETURNING id) "
			  . "SELECT string_agg(id::text, ',') AS ids FROM ins \\gset\nCOMMIT;\n\\echo subs :ids\n";
		}
		if ($i % 6 == 0)
		{
			$s .= "BEGIN;\nUPDATE lowcode.submissions SET status = 'approved' WHERE tenant_id = '$ta' AND id = :id;\nCOMMIT;\n\\echo appr :id\n";
		}
	}
	return $s;
}

# session id -> its proof (the sid_proof claim), for every session the test makes
my %proof_of;

# Creates sessions (the SQL returns rows "id proof"), notes their proofs, returns the ids.
sub sessions_of
{
	my ($sql) = @_;
	my @ids;
	for (split /\n/, query($sql))
	{
		my ($id, $proof) = split / /;
		$proof_of{$id} = $proof;
		push @ids, $id;
	}
	return @ids;
}

sub touch_script
{
	my ($n, @sids) = @_;
	my $s = '';
	for my $i (1 .. $n)
	{
		my $sid = $sids[ $i % @sids ];
		my $proof = $proof_of{$sid};
		$s .= "BEGIN READ ONLY;\nSET LOCAL request.jwt.claims = '{\"tenant_id\":\"$tb\",\"sid\":\"$sid\",\"sid_proof\":\"$proof\"}';\n"
		  . "SELECT lowcode.pre_request() AS p \\gset\n"
		  . "SELECT extract(epoch FROM lowcode.session_last_seen('$tb', '$sid')) AS ts \\gset\nCOMMIT;\n"
		  . "\\echo touch $sid :ts\n";
		$s .= "SELECT pg_sleep(0.01) AS z \\gset\n" if $i % 3 == 0;
	}
	return $s;
}

sub revoke_script
{
	my (@ids) = @_;
	my $s = '';
	for my $id (@ids)
	{
		$s .= "SELECT lowcode.revoke_session('$id', 'crash test') AS r \\gset\n\\echo rev $id :r\n"
		  . "SELECT pg_sleep(0.01) AS z \\gset\n";
	}
	return $s;
}

sub usage_script
{
	my ($n) = @_;
	my $s = '';
	for my $i (1 .. $n)
	{
		$s .= "BEGIN;\nSET LOCAL request.jwt.claims = '$claims_c';\nSELECT lowcode.pre_request() AS p \\gset\n"
		  . "SELECT (lowcode.submit('usage-form', '{\"k\": $i}') ->> 'id') AS id \\gset\nCOMMIT;\n\\echo use :id\n";
		$s .= "SELECT extract(epoch FROM clock_timestamp()) AS ts \\gset\n\\echo mark :ts\n" if $i % 10 == 0;
	}
	return $s;
}

sub flusher_script
{
	my ($n) = @_;
	my $one = "BEGIN;\nSELECT lowcode.flush_usage() AS f \\gset\nSELECT pg_sleep(0.05) AS z \\gset\nCOMMIT;\n"
	  . "SELECT pg_sleep(0.1) AS z \\gset\n";
	return $one x $n;
}

sub usage_sums
{
	return split /\|/, query("SELECT coalesce(sum(requests), 0), coalesce(sum(validations), 0), coalesce(sum(rows_inserted), 0)
		FROM lowcode.tenant_usage WHERE tenant_id = '$tc'");
}

# ------------------------------------------------------------------ a rolled-back lowcode.sweep()
# lowcode.sweep() flushes last-seen times in the caller's transaction.  If that transaction rolls back
# (or a later step of the sweep fails), the times must stay to be flushed: marked flushed in shared
# memory, they would never reach the table, and a crash however much later would lose them.
# (The worker sleeps for an hour meanwhile, so that only lowcode.sweep() flushes.)
{
	query("ALTER SYSTEM SET lowcode.sweep_interval = '1h'");
	my $log_offset = -s $node->logfile;
	$node->reload;
	$node->wait_for_log(qr/pg_lowcode worker: sweep interval is now 3600000 ms/, $log_offset);
	sleep 1;    # the sweep that follows the reload is over
	my ($sid) = sessions_of("SELECT session_id || ' ' || lowcode.session_proof(token) FROM lowcode.create_session('$tb', 'rollback', '{}', interval '1 hour')");
	my $created = query("SELECT last_seen_at FROM lowcode.sessions WHERE id = '$sid'");
	query(qq{
		BEGIN READ ONLY;
		SET LOCAL request.jwt.claims = '{"tenant_id":"$tb","sid":"$sid","sid_proof":"$proof_of{$sid}"}';
		SELECT lowcode.pre_request();
		COMMIT;
		BEGIN;
		SELECT lowcode.sweep();
		ROLLBACK;
	});
	is(query("SELECT last_seen_at FROM lowcode.sessions WHERE id = '$sid'"), $created,
		'a rolled-back lowcode.sweep() leaves last_seen_at as it was');
	is(query("SELECT flushed FROM lowcode.sweep()"), 1, 'the next sweep still flushes the touch');
	cmp_ok(query("SELECT last_seen_at > '$created' FROM lowcode.sessions WHERE id = '$sid'"), 'eq', 't',
		'and last_seen_at has it');
	# the same in a subtransaction rolled back inside a transaction that commits
	query(qq{
		BEGIN READ ONLY;
		SET LOCAL request.jwt.claims = '{"tenant_id":"$tb","sid":"$sid","sid_proof":"$proof_of{$sid}"}';
		SELECT lowcode.pre_request();
		COMMIT;
		BEGIN;
		SAVEPOINT s;
		SELECT lowcode.sweep();
		ROLLBACK TO SAVEPOINT s;
		COMMIT;
	});
	is(query("SELECT flushed FROM lowcode.sweep()"), 1, 'a sweep rolled back to a savepoint leaves the touch to flush');
	query("ALTER SYSTEM RESET lowcode.sweep_interval");
	$log_offset = -s $node->logfile;
	$node->reload;
	$node->wait_for_log(qr/pg_lowcode worker: sweep interval is now ${interval_ms} ms/, $log_offset);
}

# ------------------------------------------------------------------ rounds
my @victims = ('postmaster', 'registry', 'worker', 'submit', 'postmaster', 'flusher', 'revoke', 'worker');
@victims = @victims[0 .. $ENV{LOWCODE_CRASH_ROUNDS} - 1] if $ENV{LOWCODE_CRASH_ROUNDS};
my $t_start = time;
my $round = 0;
for my $victim (@victims)
{
	$round++;
	note "round $round: kill -9 of the $victim";

	# sessions of this round: 1500 falling due 2 to 5 s from now, 30 kept alive by the
	# toucher, 30 idle for an hour (half of them revoked by the revoker)
	my @short = sessions_of(qq{SELECT s.session_id || ' ' || lowcode.session_proof(s.token) FROM generate_series(1, 1500) g,
		lowcode.create_session('$tb', 'short-$round-' || g, '{}', make_interval(secs => 2 + (g % 31) * 0.1)) s});
	my @touched = sessions_of(qq{SELECT s.session_id || ' ' || lowcode.session_proof(s.token) FROM generate_series(1, 30) g,
		lowcode.create_session('$tb', 'touched-$round-' || g, '{}', interval '1 hour') s});
	my @idle = sessions_of(qq{SELECT s.session_id || ' ' || lowcode.session_proof(s.token) FROM generate_series(1, 30) g,
		lowcode.create_session('$tb', 'idle-$round-' || g, '{}', interval '1 hour') s});
	my @to_revoke;
	for my $i (0 .. 359)
	{
		push @to_revoke, $i % 24 == 0 ? $idle[ $i / 24 ] : $short[ int(rand(@short)) ];
	}

	query("SELECT lowcode.flush_usage()");
	my ($req0, $val0, $ins0) = usage_sums();
	my $rows0 = query("SELECT count(*) FROM lowcode.submissions WHERE tenant_id = '$tc'");
	is(query("SELECT rows FROM lowcode.tenant_storage WHERE tenant_id = '$tc'") || 0, $rows0,
		"round $round: storage figure exact at the start");

	my %w;
	$w{registry} = start_psql('registry', $round, registry_script($round, 3000));
	$w{submit} = start_psql('submit', $round, submit_script($round, 3000));
	$w{touch} = start_psql('touch', $round, touch_script(20000, @touched));
	$w{revoke} = start_psql('revoke', $round, revoke_script(@to_revoke));
	$w{usage} = start_psql('usage', $round, usage_script(20000));
	$w{flusher} = start_psql('flusher', $round, flusher_script(1000));
	my %pid = map { $_ => writer_pid($w{$_}) } keys %w;

	sleep(1.5 + rand(2.0));

	# the sessions ended so far (committed): none may come back
	for (split /\n/, query("SELECT id || ' ' || state FROM lowcode.sessions WHERE tenant_id = '$tb' AND state <> 'active'"))
	{
		my ($id, $state) = split / /;
		$ended{$id} = $state;
	}

	my $kill_time;
	my $reinit_offset = -s $node->logfile;
	if ($victim eq 'postmaster')
	{
		my $pm = $node->{_pid};
		my @children = children_of($pm);
		$kill_time = time;
		$node->kill9;
		# the orphaned backends end when they next wait for their client
		my $deadline = time + 60;
		while (grep { alive($_) } @children)
		{
			last if time > $deadline;
			sleep 0.1;
		}
		# the postmaster refuses to start while the old one's pid exists (even as a zombie)
		while (kill(0, $pm) && time < $deadline) { sleep 0.1; }
		my @left = grep { alive($_) } @children;
		is(scalar(@left), 0, "round $round: every child of the killed postmaster ends on its own");
		kill 'KILL', @left if @left;
	}
	else
	{
		my $target;
		if ($victim eq 'worker')
		{
			$target = query("SELECT public.crash_wait_active('pg_lowcode worker', NULL, 'expiring%', 1.0)");
			note $target ne '' ? "round $round: the worker is killed in its expiry step"
			  : "round $round: the worker was not caught expiring; killed wherever it is";
			$target = query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'")
			  if $target eq '';
		}
		elsif ($victim eq 'flusher')
		{
			$target = query("SELECT public.crash_wait_active('client backend', 'crash_flusher', '%pg_sleep(0.05)%', 1.0)");
			note $target ne '' ? "round $round: the flusher is killed in its open flush transaction"
			  : "round $round: the flusher was not caught in its flush";
			$target = $pid{flusher} if $target eq '';
		}
		else
		{
			$target = $pid{$victim};
		}
		$kill_time = time;
		unless (kill 'KILL', $target)
		{
			# (the scripts are long enough for this not to happen)
			note "round $round: the $victim backend $target had ended; the database worker is killed instead";
			$kill_time = time;
			kill 'KILL', query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'");
		}
	}

	my %lines = map { $_ => [ finish_writer($w{$_}) ] } keys %w;

	# --- recovery
	if ($victim eq 'postmaster')
	{
		my $started = 0;
		for (1 .. 10)
		{
			$started = $node->start(fail_ok => 1);
			last if $started;
			$node->{_pid} = undef;    # start() took the stale pid file for a running server
			sleep 1;
		}
		ok($started, "round $round: the server starts again after kill -9 of the postmaster");
	}
	else
	{
		ok($node->wait_for_log(qr/all server processes terminated; reinitializing/, $reinit_offset),
			"round $round: the postmaster reinitialises after kill -9 of the $victim");
	}
	ok($node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'), "round $round: the server accepts connections");
	my $t_up = time;
	ok($node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM lowcode.worker_status()
		WHERE database_name = 'postgres' AND pid IS NOT NULL AND sweeps > 0}),
		"round $round: the database worker is back and sweeping");
	my $back = time - $t_up;
	cmp_ok($back, '<', 20, sprintf("round $round: worker back %.1f s after the server", $back));
	is(query("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_lowcode launcher'"), 1,
		"round $round: the launcher is back");

	# --- registry
	my ($nreg, $ncompat, $ndep, $nsub, $nappr) = (0, 0, 0, 0, 0);
	for (@{ $lines{registry} })
	{
		if (/^reg (\d+) (\S+)$/) { $committed_version{$1} = $2; $nreg++; }
		elsif (/^compat /) { $committed_compat++; $ncompat++; }
		elsif (/^dep (\d+)$/) { $committed_dep{$1} = 1; $ndep++; }
	}
	my $vals = join(',', map { "($_, '$committed_version{$_}')" } sort { $a <=> $b } keys %committed_version);
	is(query(qq{SELECT count(*) FROM (VALUES $vals) c(version, title)
		LEFT JOIN lowcode.schema_versions v ON v.tenant_id = '$ta' AND v.subject = 'crash-form' AND v.version = c.version
		WHERE v.schema ->> 'title' IS DISTINCT FROM c.title}), 0,
		"round $round: every committed schema version is there with its content ($nreg this round)");
	is(query(qq{SELECT max(version) = count(*) FROM lowcode.schema_versions WHERE tenant_id = '$ta' AND subject = 'crash-form'}),
		't', "round $round: versions have no gap");
	is(query(qq{
		WITH a AS (SELECT subject, version, count(*) AS n FROM lowcode.registry_audit
		            WHERE tenant_id = '$ta' AND action = 'schema_registered' GROUP BY 1, 2),
		     e AS (SELECT payload ->> 'subject' AS subject, (payload ->> 'version')::int AS version, count(*) AS n
		             FROM lowcode.events WHERE tenant_id = '$ta' AND type = 'registry.schema_registered' GROUP BY 1, 2)
		SELECT count(*) FROM lowcode.schema_versions v
		  LEFT JOIN a ON a.subject = v.subject AND a.version = v.version
		  LEFT JOIN e ON e.subject = v.subject AND e.version = v.version
		 WHERE v.tenant_id = '$ta' AND (coalesce(a.n, 0) <> 1 OR coalesce(e.n, 0) <> 1)}), 0,
		"round $round: every version has exactly one schema_registered audit row and event");
	# audit rows and registry events pair up, action by action (so neither exists without the other,
	# nor without the change: a version's audit row without the version is caught here and above)
	is(query(qq{
		WITH a AS (SELECT action, subject, version, count(*) AS n FROM lowcode.registry_audit
		            WHERE tenant_id = '$ta' GROUP BY 1, 2, 3),
		     e AS (SELECT substr(type, 10) AS action, payload ->> 'subject' AS subject,
		                  (payload ->> 'version')::int AS version, count(*) AS n
		             FROM lowcode.events WHERE tenant_id = '$ta' AND type LIKE 'registry.%' GROUP BY 1, 2, 3)
		SELECT count(*) FROM a FULL JOIN e ON a.action = e.action AND a.subject = e.subject
		                                   AND a.version IS NOT DISTINCT FROM e.version
		 WHERE a.n IS DISTINCT FROM e.n}), 0,
		"round $round: registry audit rows and events pair up");
	is(query(qq{SELECT count(*) FROM lowcode.registry_audit a
		  LEFT JOIN lowcode.schema_versions v ON v.tenant_id = a.tenant_id AND v.subject = a.subject AND v.version = a.version
		 WHERE a.tenant_id = '$ta' AND a.action = 'schema_registered' AND v.version IS NULL}), 0,
		"round $round: no schema_registered audit row without its version");
	cmp_ok(query(qq{SELECT count(*) FROM lowcode.registry_audit WHERE tenant_id = '$ta' AND action = 'compatibility_set'
		AND subject = 'crash-form'}), '>=', $committed_compat,
		"round $round: every committed set_compatibility is audited ($ncompat this round)");
	is(query(qq{SELECT s.compatibility IS NOT DISTINCT FROM (SELECT a.details ->> 'mode' FROM lowcode.registry_audit a
		 WHERE a.tenant_id = s.tenant_id AND a.subject = s.name AND a.action = 'compatibility_set' ORDER BY a.id DESC LIMIT 1)
		FROM lowcode.subjects s WHERE s.tenant_id = '$ta' AND s.name = 'crash-form'}), 't',
		"round $round: the subject's mode is that of its last compatibility_set audit row");
	is(query(qq{SELECT count(*) FROM lowcode.schema_versions v
		  LEFT JOIN (SELECT DISTINCT version FROM lowcode.registry_audit WHERE tenant_id = '$ta'
		              AND action = 'schema_deprecated' AND subject = 'crash-form') d ON d.version = v.version
		 WHERE v.tenant_id = '$ta' AND v.subject = 'crash-form' AND (v.state = 'deprecated') <> (d.version IS NOT NULL)}), 0,
		"round $round: a version is deprecated iff its schema_deprecated audit row exists");
	my $deps = join(',', sort { $a <=> $b } keys %committed_dep) || 0;
	is(query(qq{SELECT count(*) FROM lowcode.schema_versions WHERE tenant_id = '$ta' AND subject = 'crash-form'
		AND version IN ($deps) AND state <> 'deprecated'}), 0,
		"round $round: every committed deprecation is there ($ndep this round)");

	# --- submissions
	for (@{ $lines{submit} })
	{
		if (/^sub (\d+) (\d+)$/) { $committed_sub{$1} = $2; $nsub++; }
		elsif (/^subs ([\d,]+)$/) { $committed_sub{$_} = '' for split /,/, $1; $nsub += 5; }
		elsif (/^appr (\d+)$/) { $committed_appr{$1} = 1; $nappr++; }
	}
	$vals = join(',', map { "($_, '$committed_sub{$_}')" } keys %committed_sub);
	is(query(qq{SELECT count(*) FROM (VALUES $vals) c(id, n)
		LEFT JOIN lowcode.submissions s ON s.tenant_id = '$ta' AND s.id = c.id
		WHERE s.id IS NULL OR (c.n <> '' AND s.data ->> 'n' IS DISTINCT FROM c.n)}), 0,
		"round $round: every committed submission is there with its data ($nsub this round)");
	is(query(qq{
		WITH a AS (SELECT (details ->> 'id')::bigint AS id, count(*) AS n FROM lowcode.registry_audit
		            WHERE tenant_id = '$ta' AND action = 'submission_created' GROUP BY 1),
		     e AS (SELECT (payload ->> 'id')::bigint AS id, count(*) AS n FROM lowcode.events
		            WHERE tenant_id = '$ta' AND type = 'registry.submission_created' GROUP BY 1),
		     u AS (SELECT DISTINCT (details ->> 'id')::bigint AS id FROM lowcode.registry_audit
		            WHERE tenant_id = '$ta' AND action = 'submission_updated' AND details ->> 'status' = 'approved')
		SELECT count(*) FROM lowcode.submissions s
		  LEFT JOIN a ON a.id = s.id LEFT JOIN e ON e.id = s.id LEFT JOIN u ON u.id = s.id
		 WHERE s.tenant_id = '$ta' AND (coalesce(a.n, 0) <> 1 OR coalesce(e.n, 0) <> 1
		       OR (s.status = 'approved') <> (u.id IS NOT NULL))}),
		0, "round $round: every submission has one submission_created audit row and event; approved iff audited");
	is(query(qq{SELECT count(*) FROM lowcode.registry_audit a
		  LEFT JOIN lowcode.submissions s ON s.tenant_id = a.tenant_id AND s.id = (a.details ->> 'id')::bigint
		 WHERE a.tenant_id = '$ta' AND a.action LIKE 'submission_%' AND s.id IS NULL}),
		0, "round $round: no submission audit row without its submission");
	my $apprs = join(',', keys %committed_appr) || 0;
	is(query(qq{SELECT count(*) FROM lowcode.submissions WHERE tenant_id = '$ta' AND id IN ($apprs) AND status <> 'approved'}), 0,
		"round $round: every committed status change is there ($nappr this round)");

	# --- sessions
	my (%last_touch, $ntouch);
	for (@{ $lines{touch} })
	{
		next unless /^touch (\S+) ([\d.]+)$/;
		$ntouch++;
		$last_touch{$1} = $2 if $2 <= $kill_time - $loss_bound && (!defined $last_touch{$1} || $2 > $last_touch{$1});
	}
	my $nrev = 0;
	my $attempted = 0;
	for (@{ $lines{revoke} })
	{
		next unless /^rev (\S+) (\S+)$/;
		$attempted++;
		if ($2 eq 't') { $revoked{$1} = 1; $nrev++; }
	}
	my $revs = sql_list(keys %revoked) || "'00000000-0000-0000-0000-000000000000'";
	is(query(qq{SELECT count(*) FROM lowcode.sessions WHERE tenant_id = '$tb' AND id IN ($revs) AND state <> 'revoked'}), 0,
		"round $round: every committed revocation is there ($nrev this round)");
	# and a revoked session's next request is refused
	my ($one_revoked) = grep { $revoked{$_} } @to_revoke;
	if ($one_revoked)
	{
		my ($rc, $out, $err) = $node->psql('postgres', qq{BEGIN READ ONLY;
			SET LOCAL request.jwt.claims = '{"tenant_id":"$tb","sid":"$one_revoked","sid_proof":"$proof_of{$one_revoked}"}';
			SELECT lowcode.pre_request(); COMMIT;});
		like($err, qr/LS441/, "round $round: a session revoked before the crash is refused after it (LS441)");
	}
	my $ended_vals = join(',', map { "('$_'::uuid, '$ended{$_}')" } keys %ended);
	is(query(qq{SELECT count(*) FROM (VALUES $ended_vals) c(id, state)
		LEFT JOIN lowcode.sessions s ON s.tenant_id = '$tb' AND s.id = c.id WHERE s.state IS DISTINCT FROM c.state}), 0,
		sprintf("round $round: no ended session is active again or changed state (%d ended before the kill)", scalar keys %ended));
	# idle sessions (1 hour) not revoked, and those the revoker had not reached yet, are active
	my %maybe_revoked = map { $_ => 1 } @to_revoke[ 0 .. ($attempted < @to_revoke ? $attempted : $#to_revoke) ];
	my $must_be_active = sql_list(@touched, grep { !$maybe_revoked{$_} } @idle);
	is(query(qq{SELECT count(*) FROM lowcode.sessions WHERE tenant_id = '$tb' AND id IN ($must_be_active) AND state <> 'active'}), 0,
		"round $round: sessions neither due nor revoked are still active");
	my $tv = join(',', map { "('$_'::uuid, $last_touch{$_})" } keys %last_touch);
	SKIP:
	{
		skip "round $round: the kill came within $loss_bound s of the first touch", 1 unless $tv;
		is(query(qq{SELECT count(*) FROM (VALUES $tv) c(id, ts) JOIN lowcode.sessions s ON s.tenant_id = '$tb' AND s.id = c.id
			WHERE extract(epoch FROM s.last_seen_at) < c.ts - 0.000001}), 0,
			sprintf("round $round: last_seen_at has every touch older than %.1f s before the kill (%d touches, %d sessions checked)",
				$loss_bound, $ntouch, scalar keys %last_touch));
	}
	is(query(qq{SELECT count(*) FROM lowcode.sessions WHERE tenant_id = '$tb' AND state = 'expired'
		AND ended_at < least(last_seen_at + idle_timeout, absolute_expires_at)}), 0,
		"round $round: no session was expired before it was due");

	# --- usage
	my ($nuse, $before_bound) = (0, 0);
	my @marks;
	for (@{ $lines{usage} })
	{
		if (/^use \d+$/) { $nuse++; }
		elsif (/^mark ([\d.]+)$/)
		{
			$before_bound = $nuse if $1 <= $kill_time - $loss_bound;
			push @marks, [ $1, $nuse ];
		}
	}
	my ($req1, $val1, $ins1) = usage_sums();
	# how far behind the flushed requests were at the kill (for the record)
	my ($flushed_at) = map { $_->[0] } grep { $_->[1] <= $req1 - $req0 } reverse @marks;
	note sprintf("round %d: flushed usage covers the work acknowledged up to %.2f s before the kill",
		$round, $kill_time - $flushed_at) if $flushed_at;
	my $storage_rows = query("SELECT rows FROM lowcode.tenant_storage WHERE tenant_id = '$tc'");
	my $rows1 = query("SELECT count(*) FROM lowcode.submissions WHERE tenant_id = '$tc'");
	cmp_ok($rows1 - $rows0, '>=', $nuse, "round $round: every committed usage submission is there ($nuse)");
	for my $c ([ 'requests', $req1 - $req0 ], [ 'validations', $val1 - $val0 ], [ 'rows_inserted', $ins1 - $ins0 ])
	{
		my ($name, $delta) = @$c;
		ok($delta >= $before_bound && $delta <= $nuse + 1,
			"round $round: flushed $name $delta within [$before_bound acknowledged more than $loss_bound s before the kill, "
			  . ($nuse + 1) . " attempted]");
	}
	ok($storage_rows >= $rows0 + $before_bound && $storage_rows <= $rows1,
		"round $round: storage figure $storage_rows within [" . ($rows0 + $before_bound) . ", $rows1]");
	query("SELECT lowcode.reconcile_storage()");
	is(query("SELECT rows_used FROM lowcode.tenant_stats WHERE tenant_id = '$tc'"), $rows1,
		"round $round: reconcile_storage() makes the storage figure exact");

	# --- the restarted worker expires what fell due meanwhile, each with one event
	ok($node->poll_query_until('postgres', qq{SELECT count(*) = 0 FROM lowcode.sessions WHERE tenant_id = '$tb'
		AND state = 'active' AND least(last_seen_at + idle_timeout, absolute_expires_at) < now() - interval '1 second'}),
		"round $round: the restarted worker expires the sessions that fell due");
	is(query(qq{SELECT count(*) FROM lowcode.sessions s
		LEFT JOIN (SELECT payload ->> 'session_id' AS id, count(*) AS n FROM lowcode.events
		            WHERE tenant_id = '$tb' AND type = 'session.expired' GROUP BY 1) e ON e.id = s.id::text
		WHERE s.tenant_id = '$tb' AND coalesce(e.n, 0) <> (s.state = 'expired')::int}), 0,
		"round $round: a session is expired iff it has exactly one session.expired event");
	is(query(qq{SELECT count(*) FROM (
		  SELECT payload ->> 'session_id' FROM lowcode.events WHERE tenant_id = '$tb' AND type = 'session.expired'
		  EXCEPT SELECT id::text FROM lowcode.sessions WHERE tenant_id = '$tb') x}),
		0, "round $round: no session.expired event without its session");
	# the worker's agenda (lowcode.session_timers) lost nothing either: an active session has an
	# expiry timer due no later than its expiry, an ended one its purge timer
	is(query(qq{
		WITH t AS (SELECT session_id, bool_or(NOT purge) AS has_expiry, min(due_at) FILTER (WHERE NOT purge) AS due,
		                  bool_or(purge) AS has_purge
		             FROM lowcode.session_timers WHERE tenant_id = '$tb' GROUP BY 1)
		SELECT count(*) FROM lowcode.sessions s LEFT JOIN t ON t.session_id = s.id
		 WHERE s.tenant_id = '$tb'
		   AND CASE WHEN s.state = 'active'
		            THEN t.has_expiry IS NOT TRUE OR t.due > least(s.last_seen_at + s.idle_timeout, s.absolute_expires_at)
		            ELSE t.has_purge IS NOT TRUE END}), 0,
		"round $round: every active session has its expiry timer, every ended one its purge timer");
	for (split /\n/, query("SELECT id || ' ' || state FROM lowcode.sessions WHERE tenant_id = '$tb' AND state <> 'active'"))
	{
		my ($id, $state) = split / /;
		$ended{$id} = $state;
	}
	note sprintf("round %d: %d versions, %d submissions, %d touches, %d revocations, %d usage transactions committed; "
		  . "%d sessions expired so far", $round, $nreg, $nsub, $ntouch, $nrev, $nuse,
		scalar grep { $_ eq 'expired' } values %ended);
}
note sprintf("%d rounds in %.0f s", $round, time - $t_start);

$node->stop;
done_testing();
