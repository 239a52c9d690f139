# CREATE EXTENSION in an existing database with data, DROP EXTENSION removes
# everything it made, the extension works without shared_preload_libraries
# (and says so where it needs it), pg_dump keeps tenant data.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# A server without pg_lowcode preloaded.
my $node = lowcode_node('lifecycle', no_start => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->start;

$node->safe_psql('postgres', q{
	CREATE TABLE public.existing (id int PRIMARY KEY, v text);
	INSERT INTO public.existing SELECT g, 'row ' || g FROM generate_series(1, 100) g;
});
my $before = $node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_class WHERE relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
	   AND relnamespace::regnamespace::text NOT LIKE 'pg_toast%'});

$node->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode');
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.existing'), 100, 'existing data untouched');
my $t = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('lifecycle')});
like($t, qr/^[0-9a-f-]{36}$/, 'tenants work without shared_preload_libraries');
is($node->safe_psql('postgres', qq{
	SELECT set_config('request.jwt.claims', '{"tenant_id":"$t"}', false) IS NOT NULL;
	SELECT lowcode.current_tenant()}), "t\n$t", 'current_tenant works without shared_preload_libraries');

# pg_dump keeps the extension's configuration tables' rows.
$node->safe_psql('postgres', q{UPDATE lowcode.tiers SET requests_per_second = 11 WHERE name = 'free'});
$node->safe_psql('postgres', q{INSERT INTO lowcode.tiers (name, session_idle_timeout, session_absolute_lifetime,
	requests_per_second, request_burst, statement_timeout, work_mem_kb)
	VALUES ('custom', '1 hour', '1 day', 5, 5, '1 second', 1024)});
my $dump = $node->basedir . '/dump.sql';
command_ok([ 'pg_dump', '-h', $node->host, '-p', $node->port, '-f', $dump, 'postgres' ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', $node->host, '-p', $node->port, '-f', $dump, 'restored' ],
	'restore into a fresh database');
is($node->safe_psql('restored', q{SELECT slug FROM lowcode.tenants}), 'lifecycle', 'tenant restored');
is($node->safe_psql('restored', q{SELECT string_agg(name || ':' || requests_per_second, ',' ORDER BY name) FROM lowcode.tiers}),
	'custom:5,enterprise:1000,free:11,pro:100', 'tiers restored with the operator\'s changes, seeded ones not duplicated');

# DROP EXTENSION removes everything it made.
$node->safe_psql('postgres', 'DROP EXTENSION pg_lowcode');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_namespace WHERE nspname = 'lowcode'}), 0, 'schema lowcode dropped');
my $after = $node->safe_psql('postgres', q{
	SELECT count(*) FROM pg_class WHERE relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
	   AND relnamespace::regnamespace::text NOT LIKE 'pg_toast%'});
is($after, $before, 'no relation left behind');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_proc WHERE prosrc LIKE '%lowcode%' OR probin LIKE '%pg_lowcode%'}), 0,
	'no function left behind');
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.existing'), 100, 'existing data still untouched');

# A user table made tenant-safe depends on the extension: DROP refuses, CASCADE drops the policies.
$node->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode');
$node->safe_psql('postgres', q{CREATE TABLE public.safe (v text); SELECT lowcode.make_tenant_table('public.safe');});
my ($rc, $out, $err) = $node->psql('postgres', 'DROP EXTENSION pg_lowcode');
isnt($rc, 0, 'DROP EXTENSION refuses while a tenant table depends on it');
like($err, qr/depend/, '...naming the dependency');
$node->safe_psql('postgres', 'DROP EXTENSION pg_lowcode CASCADE');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_policy WHERE polrelid = 'public.safe'::regclass}), 0,
	'CASCADE drops the tenant policies');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode');
is($node->safe_psql('postgres', 'SELECT count(*) FROM lowcode.tiers'), 3, 'reinstall works');

# One backend validates, sees the extension dropped and created again, and
# registers and validates in the new one: its registry cache follows the new
# lowcode.schema_versions (it was looked up when the backend first compiled).
my $reg = q{
	SET lowcode.registry_scope = global;
	SELECT lowcode.register_schema('life', '{"type": "object", "required": ["a"]}') \g /dev/null
	SELECT lowcode.validate('life', '{}') ->> 'valid';
};
is($node->safe_psql('postgres', $reg . q{
	DROP EXTENSION pg_lowcode CASCADE;
	CREATE EXTENSION pg_lowcode;
} . $reg . q{
	SELECT lowcode.register_schema('life', '{"type": "object"}') \g /dev/null
	SELECT lowcode.validate('life', '{}') ->> 'valid';
}), "false\nfalse\ntrue", 'the registry cache of one backend across DROP and CREATE EXTENSION');

$node->stop;
done_testing();
