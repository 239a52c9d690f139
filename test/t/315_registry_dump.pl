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
$node->safe_psql('postgres', q{SET lowcode.registry_scope = global; SELECT lowcode.register_schema('common.address', '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}')});
$node->safe_psql('postgres', $ctx . q{
	SELECT lowcode.set_compatibility(NULL, 'FULL');
	SELECT lowcode.register_schema('visit', '{"type": "object", "properties": {"where": {"$ref": "lowcode:common.address"}}}');
	SELECT lowcode.submit('visit', '{"where": {"city": "Lyon"}}');
	SELECT lowcode.submit('visit', '{"where": {"city": "Nice"}}');
});
my $before = $node->safe_psql('postgres', q{
	SELECT string_agg(format('%s/%s/%s/%s', subject, version, created_by, data), ' ' ORDER BY id) FROM lowcode.submissions});
# Sessions: one active, one revoked, one past its expiry that the worker has
# not marked yet (its timer is set far ahead so that the source's worker
# leaves it alone).
# (cid's state is left out: the restored database's worker may expire it at any time)
my $sessions_sql = q{SELECT string_agg(format('%s/%s/%s/%s/%s', principal,
	CASE WHEN principal = 'cid' THEN '-' ELSE state END, encode(token_hash, 'hex'),
	absolute_expires_at, revoke_reason), ' ' ORDER BY principal) FROM lowcode.sessions};
my ($s_active) = split /\|/, $node->safe_psql('postgres', "SELECT session_id FROM lowcode.create_session('$t', 'ann')");
my ($s_revoked) = split /\|/, $node->safe_psql('postgres', "SELECT session_id FROM lowcode.create_session('$t', 'bob')");
my ($s_old) = split /\|/, $node->safe_psql('postgres', "SELECT session_id FROM lowcode.create_session('$t', 'cid')");
$node->safe_psql('postgres', qq{
	SELECT lowcode.revoke_session('$s_revoked', 'lost phone');
	BEGIN;
	UPDATE lowcode.sessions SET absolute_expires_at = now() - interval '1 minute',
	                            expires_at = now() - interval '1 minute' WHERE id = '$s_old';
	UPDATE lowcode.session_timers SET due_at = now() + interval '1 day' WHERE session_id = '$s_old';
	COMMIT;
});
my $sessions_before = $node->safe_psql('postgres', $sessions_sql);

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
# (issue 21 / 13.7: ids are time-ordered, lowcode.new_id(), not a sequence that a dump must carry)
my $new_sub = $node->safe_psql('restored', $ctx . q{SELECT lowcode.submit('visit', '{"where": {"city": "Caen"}}') ->> 'id'});
is($node->safe_psql('restored', $ctx . qq{SELECT count(*) FROM lowcode.submissions WHERE id < $new_sub}),
	'2', 'a new submission is numbered after the restored ones');
is($node->safe_psql('restored', $ctx . q{SELECT lowcode.validate('visit', '{"where": {}}') -> 'errors' -> 0 ->> 'instancePath'}),
	'/where', 'validation (through the reference) works in the restored database');
is($node->safe_psql('restored', $ctx . q{SELECT lowcode.register_schema('visit', '{"type": "object", "properties": {"where": {"$ref": "lowcode:common.address"}}, "title": "Visit"}')}),
	'2', 'registration goes on with version 2');

# Sessions come back intact; their timers (not dumped) are set again by the
# insert trigger, so the worker's agenda is complete in the restored database.
is($node->safe_psql('restored', $sessions_sql), $sessions_before, 'sessions restored as they were');
is($node->safe_psql('restored', q{
	SELECT count(*) FROM lowcode.sessions s
	 WHERE NOT EXISTS (SELECT FROM lowcode.session_timers t WHERE t.tenant_id = s.tenant_id AND t.session_id = s.id
	                     AND t.purge = (s.state <> 'active'))}), '0', 'every restored session has its timer');
is($node->safe_psql('restored', q{SELECT count(*) FROM lowcode.session_timers}), '3', 'one timer per restored session');
$node->poll_query_until('restored', "SELECT state = 'expired' FROM lowcode.sessions WHERE id = '$s_old'")
  or die 'the session past its lifetime was not expired in the restored database';
pass('the restored database\'s worker expires the session past its lifetime');
is($node->safe_psql('restored', "SELECT state FROM lowcode.sessions WHERE id = '$s_active'"), 'active',
	'the active session is still active');
is($node->safe_psql('restored', "SELECT lowcode.revoke_session('$s_active')"), 't',
	'a restored session can be revoked');

$node->stop;
done_testing();
