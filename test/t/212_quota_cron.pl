# pg_cron maintenance for real: the jobs registered by schedule_maintenance()
# run (pg_cron 1.4, minute granularity: this test waits for the next minute),
# a database other than cron.database_name gets its jobs through
# cron.schedule_in_database, and DROP EXTENSION leaves no orphan job.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# background workers: the TAP cluster listens on a Unix socket only, and
# pg_cron's default libpq connection goes to cron.host (localhost, TCP)
my $node = lowcode_node('quota_cron', conf => "cron.use_background_workers = on\n");
my $sql = sub { $node->safe_psql($_[1] // 'postgres', $_[0]) };

$sql->('CREATE EXTENSION pg_cron');
my $t = $sql->("SELECT lowcode.create_tenant('cron-co')");
$sql->("SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$t\"}', false); SELECT lowcode.pre_request();");
is($sql->("SELECT count(*) FROM lowcode.tenant_usage"), 0, 'nothing flushed yet');

my $every_minute = "'* * * * *', '* * * * *', '* * * * *'";
is($sql->("SELECT count(*) FROM lowcode.schedule_maintenance($every_minute)"), 3, 'three jobs scheduled');
is($sql->("SELECT count(*) FROM lowcode.schedule_maintenance($every_minute)"), 3, 'scheduling again...');
is($sql->("SELECT count(*) FROM cron.job"), 3, '... keeps three jobs');

# another database: pg_cron lives in "postgres"
$sql->('CREATE DATABASE other');
$sql->('CREATE EXTENSION pg_lowcode', 'other');
my ($rc, $out, $err) = $node->psql('other', "SELECT * FROM lowcode.schedule_maintenance($every_minute)");
like($err, qr/pg_cron lives in database postgres, not in other/, 'elsewhere: a clear error');
my ($hint) = $err =~ /HINT:\s+Run in database postgres: (.*)$/m;
ok(defined $hint && $hint =~ /cron\.schedule_in_database/, 'the hint gives the cron.schedule_in_database calls');
$sql->($hint);
is($sql->("SELECT count(*) FROM cron.job WHERE database = 'other'"), 3, 'the other database\'s jobs are registered');

# wait for every job to run once (at the next minute boundary)
ok($node->poll_query_until('postgres', q{
	SELECT count(DISTINCT j.jobid) = 6 FROM cron.job j JOIN cron.job_run_details d USING (jobid)
	 WHERE d.status IN ('succeeded', 'failed')}, 't'), 'all six jobs ran');
is($sql->(q{SELECT string_agg(j.jobname || ': ' || d.return_message, '; ') FROM cron.job j
	JOIN cron.job_run_details d USING (jobid) WHERE d.status <> 'succeeded'}), '', 'and succeeded');
is($sql->("SELECT sum(requests) FROM lowcode.tenant_usage WHERE tenant_id = '$t'"), 1,
	'the usage job flushed the request into tenant_usage');
ok($sql->("SELECT reconciled_at IS NOT NULL FROM lowcode.tenant_storage LIMIT 1") ne 'f', 'the reconciliation job ran');

# DROP EXTENSION leaves no orphan
$sql->('DROP EXTENSION pg_lowcode');
is($sql->("SELECT count(*) FROM cron.job WHERE database = 'postgres'"), 0, 'DROP EXTENSION removed this database\'s jobs');
is($sql->("SELECT count(*) FROM cron.job WHERE database = 'other'"), 3, 'the other database\'s jobs are untouched');
($rc, $out, $err) = $node->psql('other', 'DROP EXTENSION pg_lowcode');
is($rc, 0, 'DROP EXTENSION in the other database succeeds');
like($err, qr/WARNING:.*pg_cron jobs of database other remain in database postgres/,
	'and warns that its jobs must be removed in pg_cron\'s database');
$sql->(q{SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'lowcode:other:%'});

# without pg_cron: a clear error
$sql->('DROP EXTENSION pg_cron');
$sql->('CREATE EXTENSION pg_lowcode');
($rc, $out, $err) = $node->psql('postgres', 'SELECT lowcode.schedule_maintenance()');
like($err, qr/pg_cron is not installed/, 'without pg_cron: "pg_cron is not installed"');

$node->stop;
done_testing();
