# The HTTP test helper (test/lib/PostgrestHttp.pm) on its own, as an example
# for other HTTP tests: a real PostgREST in front of a cluster with pg_lowcode,
# a tenant table, JWTs minted by the helper, the hook's rejection of a request
# without tenant, PostgREST's own refusal of a badly signed JWT, and a
# schema-cache reload after a new table.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestHttp;

my $node = lowcode_node('http_helper');
PostgrestHttp->setup_roles($node);
my $t = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('helper-a', NULL, 'enterprise')});
$node->safe_psql('postgres', q{
	CREATE SCHEMA api;
	GRANT USAGE ON SCHEMA api TO anon, authenticated;
	CREATE TABLE api.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL);
	SELECT lowcode.make_tenant_table('api.notes');
	GRANT SELECT, INSERT, UPDATE, DELETE ON api.notes TO authenticated;
});

my $pg = PostgrestHttp->new(node => $node, schemas => ['api'], extra_search_path => ['public', 'lowcode']);
$pg->start;
like($pg->url, qr{^http://127\.0\.0\.1:\d+$}, 'PostgREST listens on 127.0.0.1');

my %claims = (role => 'authenticated', tenant_id => $t);
my $res = $pg->post('/notes', claims => \%claims, body => { title => 'first' },
	headers => { Prefer => 'return=representation' });
is($res->{status}, 201, 'POST /notes with return=representation: 201');
is($res->{body}[0]{title}, 'first', '...the body is the inserted row');
is($res->{body}[0]{tenant_id}, $t, '...in the JWT\'s tenant');

$res = $pg->get('/notes?select=title', jwt => $pg->jwt(\%claims, exp => 60));
is($res->{status}, 200, 'GET /notes with a JWT that expires in a minute: 200');
is_deeply($res->{body}, [ { title => 'first' } ], '...the tenant\'s rows');
like($res->{headers}{'content-type'}, qr{^application/json}, '...as JSON');

$res = $pg->get('/notes');
is($res->{status}, 401, 'without a JWT, the hook answers 401');
is($res->{body}{code}, 'LT401', '...with code LT401');
is($res->{headers}{'www-authenticate'}, 'Bearer error="invalid_token"', '...and WWW-Authenticate');

$res = $pg->get('/notes', jwt => $pg->jwt(\%claims, secret => 'another-secret-of-at-least-32-characters'));
is($res->{status}, 401, 'a JWT signed with another secret: 401 from PostgREST');
is($res->{body}{code}, 'PGRST301', '...code PGRST301');

# A table created while PostgREST runs is served after a schema-cache reload.
$node->safe_psql('postgres', q{
	CREATE TABLE api.tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tag text);
	SELECT lowcode.make_tenant_table('api.tags');
	GRANT SELECT, INSERT ON api.tags TO authenticated;
});
$pg->reload_schema;
$res = $pg->get('/tags', claims => \%claims);
is($res->{status}, 200, 'a new table is served after reload_schema');
is_deeply($res->{body}, [], '...empty');

$pg->stop;
$res = HTTP::Tiny->new(timeout => 2)->get($pg->url . '/notes');
is($res->{status}, 599, 'stop() stops PostgREST');

$node->stop;
done_testing();
