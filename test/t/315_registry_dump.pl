# pg_dump and restore keep the registry: subjects, versions, references,
# settings, audit rows and submissions come back as they were (restored
# submissions are not revalidated, restamped or audited again), numbering
# goes on after the restored rows, and validation works in the new database.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;


my $node = lowcode_node('registry_dump');

my $t = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('dump-t', NULL, 'enterprise')");
my $ctx = qq{SET "request.jwt.claims" TO '{"tenant_id": "$t", "sub": "dora"}';};
$node->safe_psql('postgres', q{SELECT lowcode.register_schema('common.address', '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}')});
$node->safe_psql('postgres', $ctx . q{
	SELECT lowcode.set_compatibility(NULL, 'FULL');
	SELECT lowcode.register_schema('visit', '{"type": "object", "properties": {"where": {"$ref": "lowcode:common.address"}}}');
	SELECT lowcode.submit('visit', '{"where": {"city": "Lyon"}}');
	SELECT lowcode.submit('visit', '{"where": {"city": "Nice"}}');
});
my $before = $node->safe_psql('postgres', q{
	SELECT string_agg(format('%s/%s/%s/%s', subject, version, created_by, data), ' ' ORDER BY id) FROM lowcode.submissions});

my $dump = $node->basedir . '/registry.sql';
$node->command_ok([ 'pg_dump', '-d', 'postgres', '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-q', '-d', 'restored', '-f', $dump ], 'restore');

is($node->safe_psql('restored', q{
	SELECT string_agg(format('%s/%s/%s/%s', subject, version, created_by, data), ' ' ORDER BY id) FROM lowcode.submissions}),
	$before, 'submissions restored as they were');
is($node->safe_psql('restored', q{SELECT string_agg(subject || ':' || version, ',' ORDER BY subject) FROM lowcode.schema_versions}),
	'common.address:1,visit:1', 'versions restored');
is($node->safe_psql('restored', q{SELECT count(*) FROM lowcode.schema_references}), '1', 'references restored');
is($node->safe_psql('restored', "SELECT compatibility FROM lowcode.registry_settings WHERE tenant_id = '$t'"), 'FULL',
	'settings restored');
is($node->safe_psql('restored', q{SELECT count(*) FROM lowcode.registry_audit WHERE action = 'submission_created'}), '2',
	'audit rows restored, none added');
is($node->safe_psql('restored', $ctx . q{SELECT lowcode.submit('visit', '{"where": {"city": "Caen"}}') ->> 'id'}),
	'3', 'a new submission is numbered after the restored ones');
is($node->safe_psql('restored', $ctx . q{SELECT lowcode.validate('visit', '{"where": {}}') -> 'errors' -> 0 ->> 'instancePath'}),
	'/where', 'validation (through the reference) works in the restored database');
is($node->safe_psql('restored', $ctx . q{SELECT lowcode.register_schema('visit', '{"type": "object", "properties": {"where": {"$ref": "lowcode:common.address"}}, "title": "Visit"}')}),
	'2', 'registration goes on with version 2');

$node->stop;
done_testing();
