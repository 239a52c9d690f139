# pg_lowcode behind a real PostgREST 12 (test/lib/PostgrestHttp.pm), over HTTP:
# tenant tables of two tenants through PostgREST's shared pool, every error the
# docs promise (status, headers, body), the registry and validation RPCs, the
# OpenAPI root, PostgREST's own errors, a schema-cache reload, sessions, rate
# limits and quotas. Each case is also replayed with PostgrestReplay, and the
# replay must answer the same status, code and headers as the real server.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Digest::SHA;
use Time::HiRes qw(sleep);
use LowcodeTest;
use PostgrestHttp;
use PostgrestReplay;

my $node = lowcode_node('postgrest_http');
PostgrestHttp->setup_roles($node);
PostgrestHttp->create_api_schema($node);
my $json = JSON::PP->new->utf8->canonical;

my %t = map { $_ => $node->safe_psql('postgres', "SELECT lowcode.create_tenant('http-$_', NULL, 'enterprise')") }
  qw(a b suspended rate rows bytes);
$node->safe_psql('postgres', qq{
	SELECT lowcode.suspend_tenant('$t{suspended}');
	SELECT lowcode.set_tenant_limit('$t{rate}', 'requests_per_second', 1);
	SELECT lowcode.set_tenant_limit('$t{rate}', 'request_burst', 3);
	SELECT lowcode.set_tenant_limit('$t{rows}', 'max_rows', 2);
	SELECT lowcode.set_tenant_limit('$t{bytes}', 'max_storage_bytes', 200);
	CREATE TABLE api.notes (id bigint GENERATED ALWAYS AS IDENTITY, title text NOT NULL);
	SELECT lowcode.make_tenant_table('api.notes');
	ALTER TABLE api.notes ADD PRIMARY KEY (tenant_id, id);
	GRANT SELECT, INSERT, UPDATE, DELETE ON api.notes TO authenticated;
	-- test-only endpoints: what PostgREST set for the request, and any SQLSTATE
	CREATE FUNCTION api.request_env() RETURNS jsonb LANGUAGE sql STABLE AS \$\$
	  SELECT jsonb_build_object('read_only', current_setting('transaction_read_only'),
	    'search_path', current_setting('search_path'), 'claims', current_setting('request.jwt.claims')::jsonb,
	    'method', current_setting('request.method'), 'path', current_setting('request.path'),
	    'role', current_user::text, 'tenant', lowcode.current_tenant()) \$\$;
	CREATE FUNCTION api.request_env_volatile() RETURNS jsonb LANGUAGE sql VOLATILE AS \$\$ SELECT api.request_env() \$\$;
	CREATE FUNCTION api.echo(t text, j jsonb, n integer) RETURNS jsonb LANGUAGE sql IMMUTABLE AS \$\$
	  SELECT jsonb_build_object('t', t, 'j', j, 'jtype', jsonb_typeof(j), 'n', n) \$\$;
	CREATE FUNCTION api.raise(code text) RETURNS void LANGUAGE plpgsql VOLATILE AS \$\$
	  BEGIN RAISE EXCEPTION USING ERRCODE = code, MESSAGE = 'raised ' || code; END \$\$;
	CREATE FUNCTION api.add_note(title text) RETURNS bigint LANGUAGE sql VOLATILE AS \$\$
	  INSERT INTO api.notes (title) VALUES (title) RETURNING id \$\$;
	GRANT EXECUTE ON FUNCTION api.request_env(), api.request_env_volatile(), api.echo(text, jsonb, integer),
	  api.raise(text), api.add_note(text) TO authenticated, anon;
	GRANT USAGE ON SCHEMA api TO anon;
});
$node->safe_psql('postgres', q{BEGIN; SET LOCAL lowcode.registry_scope = global;   -- a global form, on purpose
	SELECT lowcode.register_schema('common.address',
	'{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}'); COMMIT;});

my $pg = PostgrestHttp->new(node => $node, schemas => ['api'], extra_search_path => ['public', 'lowcode'], pool => 2);
$pg->start;
my $replay = PostgrestReplay->new(node => $node, pool_size => 2, schemas => ['api'], extra_search_path => ['public', 'lowcode']);

my %claims = map { $_ => { role => 'authenticated', tenant_id => $t{$_}, sub => "user-$_" } } keys %t;

# --- the comparison: a case run over HTTP and through the replay harness
my ($cases, $agreed) = (0, 0);
my @disagreements;

# check(NAME, HTTP_RESPONSE, REPLAY_RESPONSE, status => N, code => C, header => [NAME, VALUE-or-regex])
# asserts the HTTP answer, then that the replay answers the same status, code
# and header.
sub hcode { my ($h) = @_; return ref $h->{body} eq 'HASH' ? $h->{body}{code} : undef; }
sub check
{
	my ($name, $h, $r, %e) = @_;
	is($h->{status}, $e{status}, "$name: HTTP $e{status}") or diag explain { status => $h->{status}, body => $h->{content} };
	if (exists $e{code})
	{
		is(hcode($h), $e{code}, "$name: code $e{code}") or diag $h->{content};
	}
	if ($e{header})
	{
		my ($hn, $hv) = @{ $e{header} };
		if (ref $hv) { like($h->{headers}{ lc $hn } // '', $hv, "$name: header $hn"); }
		else { is($h->{headers}{ lc $hn }, $hv, "$name: header $hn"); }
	}
	return unless $r;
	$cases++;
	my %rh = map { lc($_) => $r->{headers}{$_} } keys %{ $r->{headers} // {} };
	my $same = ($r->{status} == $h->{status})
	  && (!exists $e{code} || ($r->{error}{code} // '') eq (hcode($h) // ''))
	  && (!$e{header} || ($rh{ lc $e{header}[0] } // '') eq ($h->{headers}{ lc $e{header}[0] } // ''));
	$agreed++ if $same;
	push @disagreements, "$name: HTTP $h->{status} " . (hcode($h) // '') . " / replay $r->{status} " . ($r->{error}{code} // '')
	  unless $same;
	ok($same, "$name: the replay agrees") or diag explain { replay => { status => $r->{status}, error => $r->{error}, headers => $r->{headers} } };
}

# ============================================================ tenant tables
for my $who (qw(a b))
{
	my $h = $pg->post('/notes', claims => $claims{$who}, body => [ { title => "$who-1" }, { title => "$who-2" } ]);
	check("POST /notes as $who", $h, undef, status => 201);
	is($h->{content}, '', '...return=minimal by default: no body');
}
my $r = $replay->insert(table => 'api.notes', columns => ['title'], claims => $claims{a}, body => [ { title => 'a-3' } ]);
is($r->{status}, 201, 'replayed POST /notes: 201');
my $h = $pg->post('/notes', claims => $claims{b}, body => { title => 'b-3' }, headers => { Prefer => 'return=representation' });
check('POST /notes with return=representation', $h, undef, status => 201);
is($h->{body}[0]{tenant_id}, $t{b}, '...the row, in the caller\'s tenant');
like($h->{headers}{'content-type'}, qr{^application/json}, '...as JSON');

for my $who (qw(a b))
{
	$h = $pg->get('/notes?select=title&order=id', claims => $claims{$who});
	$r = $replay->get(table => 'api.notes', claims => $claims{$who});
	check("GET /notes as $who", $h, $r, status => 200);
	is_deeply([ map { $_->{title} } @{ $h->{body} } ], [ "$who-1", "$who-2", "$who-3" ], "...only $who\'s rows");
	is_deeply([ sort map { $_->{title} } @{ PostgrestReplay::body($r) } ], [ "$who-1", "$who-2", "$who-3" ], '...replayed too');
}
my $b_id = $node->safe_psql('postgres', "SELECT min(id) FROM api.notes WHERE tenant_id = '$t{b}'");
$h = $pg->get("/notes?id=eq.$b_id", claims => $claims{a});
check('GET /notes?id=eq.(b\'s row) as a', $h, undef, status => 200);
is_deeply($h->{body}, [], '...another tenant\'s row by id: empty');
$h = $pg->get("/notes?id=eq.$b_id", claims => $claims{a}, headers => { Accept => 'application/vnd.pgrst.object+json' });
check('GET one object of another tenant', $h, undef, status => 406, code => 'PGRST116');

$h = $pg->patch("/notes?id=eq.$b_id", claims => $claims{a}, body => { title => 'hacked' });
$r = $replay->update(table => 'api.notes', where => "id = $b_id", body => { title => 'hacked' }, claims => $claims{a});
check('PATCH another tenant\'s row', $h, $r, status => 204);
$h = $pg->patch("/notes?title=eq.a-1", claims => $claims{a}, body => { title => 'a-1b' }, headers => { Prefer => 'return=representation' });
$r = $replay->update(table => 'api.notes', where => q{"notes".title = 'a-1b'}, body => { title => 'a-1b' }, claims => $claims{a},
	prefer => 'return=representation');
check('PATCH with return=representation', $h, $r, status => 200);
is($h->{body}[0]{title}, 'a-1b', '...the changed row');
$h = $pg->delete('/notes', claims => $claims{a}, headers => { Prefer => 'return=representation' });
$r = $replay->delete(table => 'api.notes', where => 'false', claims => $claims{a});
check('DELETE /notes (all) as a', $h, undef, status => 200);
is(scalar @{ $h->{body} }, 3, '...deletes only a\'s 3 rows');
check('DELETE without return=representation', $pg->delete('/notes?id=eq.0', claims => $claims{a}), $r, status => 204);
is($node->safe_psql('postgres', "SELECT count(*) FROM api.notes WHERE tenant_id = '$t{b}'"), '3', 'b\'s rows are intact');

$h = $pg->post('/notes', claims => $claims{a}, body => { title => 'planted', tenant_id => $t{b} });
$r = $replay->insert(table => 'api.notes', columns => [qw(title tenant_id)], claims => $claims{a},
	body => [ { title => 'planted', tenant_id => $t{b} } ]);
check('POST a row into another tenant', $h, $r, status => 403, code => '42501');
is($h->{headers}{'www-authenticate'}, undef, '...no WWW-Authenticate on a 403');

# 42501 for the anon role: 401 with WWW-Authenticate: Bearer
my %anon_t = (role => 'anon', tenant_id => $t{a});
$h = $pg->get('/notes', claims => \%anon_t);
$r = $replay->get(table => 'api.notes', claims => \%anon_t);
check('GET /notes as the anon role', $h, $r, status => 401, code => '42501', header => [ 'WWW-Authenticate', 'Bearer' ]);

# ============================================================ pre_request's rejections
my @hook = (
	[ 'no JWT', {}, 401, 'LT401', 'Bearer error="invalid_token"' ],
	[ 'no tenant claim', { role => 'authenticated' }, 401, 'LT401', 'Bearer error="invalid_token"' ],
	[ 'malformed tenant claim', { role => 'authenticated', tenant_id => 'x' }, 400, 'LT400', undef ],
	[ 'tenant claim not a string', { role => 'authenticated', tenant_id => 42 }, 400, 'LT400', undef ],
	[ 'unknown tenant', { role => 'authenticated', tenant_id => '00000000-0000-4000-8000-000000000001' }, 403, 'LT403', undef ],
	[ 'suspended tenant', $claims{suspended}, 403, 'LT423', undef ],
);
for my $c (@hook)
{
	my ($name, $cl, $status, $code, $www) = @$c;
	my %o = %$cl ? (claims => $cl) : ();
	$h = $pg->get('/notes', %o);
	$r = $replay->get(table => 'api.notes', (%$cl ? (claims => $cl) : ()));
	check("hook: $name", $h, $r, status => $status, code => $code, header => [ 'WWW-Authenticate', $www ]);
	ok(defined $h->{body}{message} && exists $h->{body}{details} && exists $h->{body}{hint}, "...body {code, message, details, hint}");
}

# ============================================================ PostgREST's own errors
$h = $pg->get('/notes', jwt => $pg->jwt($claims{a}, secret => 'not-the-secret-not-the-secret-not-the'));
check('JWT with a bad signature', $h, undef, status => 401, code => 'PGRST301', header => [ 'WWW-Authenticate', qr/^Bearer error="invalid_token"/ ]);
$h = $pg->get('/notes', jwt => 'not-a-jwt');
check('malformed JWT', $h, undef, status => 401, code => 'PGRST301');
$h = $pg->get('/notes', jwt => $pg->jwt($claims{a}, exp => -60));
is($h->{body}{message}, 'JWT expired', 'expired JWT: "JWT expired"');
check('expired JWT', $h, undef, status => 401, code => 'PGRST301', header => [ 'WWW-Authenticate', qr/^Bearer error="invalid_token"/ ]);
$h = $pg->get('/notes', claims => { %{ $claims{a} }, role => 'nobody' });
check('JWT role that does not exist', $h, undef, status => 400, code => '22023');
$h = $pg->post('/rpc/no_such_function', claims => $claims{a}, body => {});
$r = $replay->rpc(function => 'no_such_function', args => {}, claims => $claims{a});
check('unknown function', $h, $r, status => 404, code => 'PGRST202');
$h = $pg->get('/no_such_table', claims => $claims{a});
check('unknown table', $h, undef, status => 404);
$h = $pg->get('/notes?id=zz.1', claims => $claims{a});
check('bad filter operator', $h, undef, status => 400, code => 'PGRST100');

# ============================================================ what PostgREST sets for a request
$h = $pg->get('/rpc/request_env', claims => $claims{a});
$r = $replay->rpc(function => 'request_env', args => {}, claims => $claims{a}, method => 'GET');
check('GET /rpc/request_env (stable)', $h, $r, status => 200);
my $renv = PostgrestReplay::body($r);
is($h->{body}{read_only}, 'on', '...GET runs READ ONLY');
is($h->{body}{search_path}, '"api", "public", "lowcode"', '...search_path: the schema, then db-extra-search-path');
is_deeply($h->{body}{claims}, $claims{a}, '...the JWT\'s claims');
is($h->{body}{tenant}, $t{a}, '...the tenant context is set');
is_deeply($renv, $h->{body}, '...the replay sets exactly the same');
for my $c ([ 'request_env', 'on', 'POST of a STABLE function runs READ ONLY' ],
	[ 'request_env_volatile', 'off', 'POST of a VOLATILE function runs READ WRITE' ])
{
	$h = $pg->post("/rpc/$c->[0]", claims => $claims{a}, body => {});
	$r = $replay->rpc(function => $c->[0], args => {}, claims => $claims{a});
	check("POST /rpc/$c->[0]", $h, $r, status => 200);
	is($h->{body}{read_only}, $c->[1], "...$c->[2]");
	is(PostgrestReplay::body($r)->{read_only}, $c->[1], '...replayed too');
}
$h = $pg->get('/rpc/add_note?title=x', claims => $claims{a});
$r = $replay->rpc(function => 'add_note', args => { title => 'x' }, claims => $claims{a}, method => 'GET');
check('GET of a VOLATILE function that writes', $h, $r, status => 405, code => '25006');
$h = $pg->post('/rpc/add_note', claims => $claims{a}, body => { title => 'x' });
$r = $replay->rpc(function => 'add_note', args => { title => 'y' }, claims => $claims{a});
check('POST of a VOLATILE function that writes', $h, $r, status => 200);

# GET arguments are query-string text: a jsonb argument is the JSON string of the text
$h = $pg->get('/rpc/echo', claims => $claims{a}, query => { t => 'x', j => '{"a":1}', n => '7' });
$r = $replay->rpc(function => 'echo', args => { t => 'x', j => '{"a":1}', n => 7 }, claims => $claims{a}, method => 'GET');
check('GET /rpc/echo', $h, $r, status => 200);
is_deeply($h->{body}, { t => 'x', j => '{"a":1}', jtype => 'string', n => 7 }, '...a jsonb argument in the query string is a JSON string');
is_deeply(PostgrestReplay::body($r), $h->{body}, '...replayed the same');
$h = $pg->post('/rpc/echo', claims => $claims{a}, body => { t => 'x', j => { a => 1 }, n => 7 });
$r = $replay->rpc(function => 'echo', args => { t => 'x', j => { a => 1 }, n => 7 }, claims => $claims{a});
check('POST /rpc/echo', $h, $r, status => 200);
is_deeply($h->{body}, { t => 'x', j => { a => 1 }, jtype => 'object', n => 7 }, '...POST passes JSON as JSON');
is_deeply(PostgrestReplay::body($r), $h->{body}, '...replayed the same');

# without JWT and without the hook: the claims are {"role":"anon"}
{
	my $bare = PostgrestHttp->new(node => $node, name => 'bare', schemas => ['api'], extra_search_path => ['public', 'lowcode'],
		pre_request => undef, pool => 1);
	$bare->start;
	$h = $bare->get('/rpc/request_env');
	$r = $replay->rpc(function => 'request_env', args => {}, method => 'GET', pre_request => 'SELECT 1');
	check('GET without JWT (no hook)', $h, $r, status => 200);
	is_deeply($h->{body}{claims}, { role => 'anon' }, '...claims {"role":"anon"}');
	is($h->{body}{role}, 'anon', '...as the anon role');
	is_deeply(PostgrestReplay::body($r)->{claims}, { role => 'anon' }, '...replayed the same');
	$h = $bare->get('/rpc/request_env', claims => { tenant_id => $t{a} });
	is_deeply($h->{body}{claims}, { role => 'anon', tenant_id => $t{a} }, 'a JWT without role: PostgREST adds role anon');
	$bare->stop;
}

# ============================================================ PostgREST's SQLSTATE map
# (not 40001: PostgREST retries a transaction that fails with serialization_failure
# until it succeeds or the request is cut off, so no status maps it)
for my $c ([ '54000', 413 ], [ '54001', 413 ], [ '21000', 500 ], [ '57P01', 503 ], [ '57014', 500 ], [ '53200', 503 ],
	[ '23505', 409 ], [ '23503', 409 ], [ '23502', 400 ], [ '22023', 400 ], [ 'P0001', 400 ], [ 'P0002', 500 ],
	[ '25006', 405 ], [ '40P01', 500 ], [ '42P17', 500 ], [ '28000', 403 ], [ '0P000', 403 ], [ '08006', 503 ],
	[ '55000', 500 ], [ 'XX000', 500 ], [ 'PT402', 402 ], [ 'LT001', 400 ], [ '42501', 403 ], [ '42883', 404 ],
	[ '42P01', 404 ])
{
	my ($code, $status) = @$c;
	$h = $pg->post('/rpc/raise', claims => $claims{a}, body => { code => $code });
	$r = $replay->rpc(function => 'raise', args => { code => $code }, claims => $claims{a});
	check("SQLSTATE $code", $h, $r, status => $status, code => $code);
}
$h = $pg->post('/rpc/raise', claims => \%anon_t, body => { code => '42501' });
$r = $replay->rpc(function => 'raise', args => { code => '42501' }, claims => \%anon_t);
check('SQLSTATE 42501 as the anon role', $h, $r, status => 401, code => '42501', header => [ 'WWW-Authenticate', 'Bearer' ]);

# ============================================================ OpenAPI root
$h = $pg->get('/', claims => $claims{a});
check('GET / (OpenAPI)', $h, undef, status => 200);
like($h->{headers}{'content-type'}, qr{^application/openapi\+json}, '...application/openapi+json');
ok($h->{body}{paths}{'/notes'} && $h->{body}{paths}{'/rpc/validate'} && $h->{body}{paths}{'/forms'},
	'...lists the tenant table and the API schema\'s endpoints');
ok(!$h->{body}{paths}{'/rpc/create_tenant'} && !$h->{body}{paths}{'/sessions'}, '...and nothing of the operator\'s');
$h = $pg->get('/');
check('GET / without JWT', $h, undef, status => 401, code => 'LT401');

# ============================================================ registry and validation
my $form = leave_form();
$h = $pg->rpc('register_schema', { subject => 'leave', schema => $form, description => 'Leave request' }, claims => $claims{a});
$r = $replay->rpc(function => 'register_schema', args => { subject => 'leave', schema => $form }, claims => $claims{a});
check('POST /rpc/register_schema', $h, $r, status => 200);
is($h->{content}, '1', '...body: the version, 1');
$h = $pg->rpc('get_schema', { subject => 'leave' }, claims => $claims{a}, method => 'GET');
$r = $replay->rpc(function => 'get_schema', args => { subject => 'leave' }, claims => $claims{a}, method => 'GET');
check('GET /rpc/get_schema', $h, $r, status => 200);
is($h->{body}{'x-rules'}[0]{path}, '/end_date', '...the schema');
$h = $pg->get('/forms?select=subject,latest_version,global&order=subject', claims => $claims{a});
check('GET /forms', $h, undef, status => 200);
is_deeply([ map { "$_->{subject}:$_->{latest_version}:" . ($_->{global} ? 'global' : 'own') } @{ $h->{body} } ],
	[ 'common.address:1:global', 'leave:1:own' ], '...own forms and the global ones');
$h = $pg->get('/forms?select=subject', claims => $claims{b});
is_deeply($h->{body}, [ { subject => 'common.address' } ], '...b sees only the global form');
$h = $pg->get('/form_versions?subject=eq.leave&select=subject,version', claims => $claims{a});
is_deeply($h->{body}, [ { subject => 'leave', version => 1 } ], 'GET /form_versions');

# the author's field order everywhere a front end reads a schema (issue 15):
# register_schema keeps the text as sent, get_schema and the views give it back
my $signup = '{"subject": "signup", "schema": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}, "age": {"type": "integer"}, "city": {"type": "string"}}}}';
sub key_order { my ($raw) = @_; my @k = grep { $_ ne 'schema' } ($raw =~ /"(\w+)"\s*:\s*\{\s*"type"/g); return \@k; }
$h = $pg->request(POST => '/rpc/register_schema', claims => $claims{a}, body => $signup);
$r = $replay->rpc(function => 'register_schema', args => { subject => 'signup', schema => {} }, raw_body => $signup, claims => $claims{a});
check('POST /rpc/register_schema in the author\'s order', $h, $r, status => 200);
$h = $pg->rpc('get_schema', { subject => 'signup' }, claims => $claims{a}, method => 'GET');
$r = $replay->rpc(function => 'get_schema', args => { subject => 'signup' }, claims => $claims{a}, method => 'GET');
check('GET /rpc/get_schema of a form', $h, $r, status => 200);
is_deeply(key_order($h->{content}), [qw(name email age city)], '...its fields in the author\'s order');
is_deeply(key_order($r->{rows}[0]{body} // ''), [qw(name email age city)], '...replayed too');
for my $view (qw(forms form_versions))
{
	$h = $pg->get("/$view?select=schema&subject=eq.signup", claims => $claims{a});
	check("GET /$view?select=schema", $h, undef, status => 200);
	is_deeply(key_order($h->{content}), [qw(name email age city)], "...the author's order in $view.schema");
}
$h = $pg->rpc('check_compatibility', { subject => 'signup', schema => { type => 'object' } }, claims => $claims{a});
check('POST /rpc/check_compatibility after register_schema took json', $h, undef, status => 200);

# ajv's shape over HTTP (issue 15): a type array's params, schemaPath through $ref, contains
my $shape = { type => 'object', '$defs' => { n => { type => [ 'integer', 'null' ] } },
	properties => { n => { '$ref' => '#/$defs/n' }, tags => { type => 'array', contains => { const => 'a' }, maxContains => 1 } } };
$h = $pg->rpc('register_schema', { subject => 'shape', schema => $shape }, claims => $claims{a});
check('POST /rpc/register_schema (shape)', $h, undef, status => 200);
$h = $pg->rpc('validate', { subject => 'shape', instance => { n => 'x', tags => [ 'b', 'a', 'a' ] } }, claims => $claims{a});
$r = $replay->rpc(function => 'validate', args => { subject => 'shape', instance => { n => 'x', tags => [ 'b', 'a', 'a' ] } }, claims => $claims{a});
check('POST /rpc/validate: ajv\'s shape', $h, $r, status => 200);
is_deeply([ map { join(' ', $_->{instancePath}, $_->{schemaPath}, $_->{keyword}, $json->canonical->encode($_->{params}), $_->{message}) } @{ $h->{body}{errors} } ], [
	'/n #/$defs/n/type type {"type":["integer","null"]} must be integer,null',
	'/tags/0 #/properties/tags/contains/const const {"allowedValue":"a"} must be equal to constant',
	'/tags #/properties/tags/contains contains {"maxContains":1,"minContains":1} must contain at least 1 and no more than 1 valid item(s)' ],
	'...type array params, schemaPath through $ref, contains with the non-matching item, as ajv gives them');
is_deeply(PostgrestReplay::body($r)->{errors}, $h->{body}{errors}, '...replayed: the same errors');

# the tenant's default language (issue 15): set by the tenant through PostgREST
$h = $pg->rpc('set_tenant_locale', { locale => 'de-CH' }, claims => $claims{a});
$r = $replay->rpc(function => 'set_tenant_locale', args => { locale => 'de-CH' }, claims => $claims{a});
check('POST /rpc/set_tenant_locale', $h, $r, status => 200);
is($h->{body}, 'de', '...stored in canonical form');
my $short = { name => 'x', start_date => '2026-05-02', end_date => '2026-05-03', address => { city => 'Graz' } };
$h = $pg->rpc('validate', { subject => 'leave', instance => { %$short, name => '' } }, claims => $claims{a});
is($h->{body}{errors}[0]{message}, "darf nicht k\x{fc}rzer als 1 Zeichen sein", '...the tenant\'s messages are German');
$h = $pg->request(POST => '/rpc/validate', claims => $claims{a}, headers => { 'Accept-Language' => 'fr' },
	body => { subject => 'leave', instance => { %$short, name => '' } });
is($h->{body}{errors}[0]{message}, "ne doit pas faire moins de 1 caract\x{e8}re", '...Accept-Language wins');
$h = $pg->rpc('set_tenant_locale', { locale => 'it' }, claims => $claims{a});
$r = $replay->rpc(function => 'set_tenant_locale', args => { locale => 'it' }, claims => $claims{a});
check('POST /rpc/set_tenant_locale with an unsupported locale', $h, $r, status => 400, code => 'LT009');
$h = $pg->rpc('set_tenant_locale', { locale => 'de' });
check('POST /rpc/set_tenant_locale without JWT', $h, undef, status => 401, code => 'LT401');
is($node->safe_psql('postgres', "SELECT string_agg(coalesce(settings ->> 'locale', '-'), ',' ORDER BY id = '$t{a}' DESC) FROM lowcode.tenants WHERE id IN ('$t{a}', '$t{b}')"),
	'de,-', '...a\'s default is set, b\'s untouched');
$h = $pg->rpc('set_tenant_locale', { locale => undef }, claims => $claims{a});
check('POST /rpc/set_tenant_locale null: removed', $h, undef, status => 200);

my $bad = { name => '', start_date => '2026-05-02', end_date => '2026-05-01', address => {} };
$h = $pg->rpc('validate', { subject => 'leave', instance => $bad }, claims => $claims{a});
$r = $replay->rpc(function => 'validate', args => { subject => 'leave', instance => $bad }, claims => $claims{a});
check('POST /rpc/validate', $h, $r, status => 200);
ok(!$h->{body}{valid}, '...invalid');
is_deeply([ sort map { "$_->{instancePath} $_->{keyword}" } @{ $h->{body}{errors} } ],
	[ '/address required', '/end_date x-rules', '/name minLength' ], '...every error with its field');
$h = $pg->rpc('validate', { subject => 'leave', instance => $json->encode($bad) }, claims => $claims{a}, method => 'GET');
$r = $replay->rpc(function => 'validate', args => { subject => 'leave', instance => $json->encode($bad) },
	claims => $claims{a}, method => 'GET');
check('GET /rpc/validate?instance=<JSON text>', $h, $r, status => 200);
is_deeply([ map { $_->{keyword} } @{ $h->{body}{errors} } ], ['type'],
	'...GET passes the instance as a JSON string: a type error, not the object\'s errors');

$h = $pg->rpc('submit', { subject => 'leave', data => { name => 'Ann', start_date => '2026-05-01', end_date => '2026-05-03' } },
	claims => $claims{a});
check('POST /rpc/submit (valid)', $h, undef, status => 200);
is($h->{body}{version}, 1, '...the submission, pinned to version 1');
# a JavaScript front end reads the id as a double: it must be an exact one
like($h->{content} // '', qr/"id"\s*:\s*\d+/, '...its id is a JSON number');
cmp_ok($h->{body}{id}, '<', 2**53, '...below 2^53, so JavaScript reads it exactly (Number.isSafeInteger)');
my $bad_sub = { name => 'Cy', start_date => '2026-06-05', end_date => '2026-06-01', extra => 1 };
$h = $pg->rpc('submit', { subject => 'leave', data => $bad_sub }, claims => $claims{a});
$r = $replay->rpc(function => 'submit', args => { subject => 'leave', data => $bad_sub }, claims => $claims{a});
check('POST /rpc/submit (invalid)', $h, $r, status => 422, code => 'LG012');
my $errs = decode_json($h->{body}{details});
is_deeply([ sort map { "$_->{instancePath} $_->{keyword}" } @$errs ], [ ' additionalProperties', '/end_date x-rules' ],
	'...details: the JSON text of the error list');
ok((grep { defined $_->{message} } @$errs) == @$errs, '...each error with its message');
$h = $pg->post('/submissions', claims => $claims{a}, body => { subject => 'leave', data => $bad_sub });
$r = $replay->insert(table => 'api.submissions', columns => [qw(subject data)], claims => $claims{a},
	body => [ { subject => 'leave', data => $bad_sub } ]);
check('POST /submissions (invalid)', $h, $r, status => 422, code => 'LG012');
$h = $pg->post('/submissions', claims => $claims{a}, body => { subject => 'leave', data => { name => 'Bo', start_date => '2026-01-01', end_date => '2026-01-01' } },
	headers => { Prefer => 'return=representation' });
check('POST /submissions (valid)', $h, undef, status => 201);
is($h->{body}[0]{created_by}, 'user-a', '...created by the JWT subject');
my $sub_id = $h->{body}[0]{id};
$h = $pg->patch("/submissions?id=eq.$sub_id", claims => $claims{a}, body => { status => 'approved' });
check('PATCH /submissions', $h, undef, status => 204);
$h = $pg->patch("/submissions?id=eq.$sub_id", claims => $claims{a}, body => { data => $bad_sub });
check('PATCH /submissions with invalid data', $h, undef, status => 422, code => 'LG012');
$h = $pg->get('/submissions?select=subject', claims => $claims{b});
is_deeply($h->{body}, [], 'b sees none of a\'s submissions');

my %v2 = (%$form, required => [ 'name', 'start_date', 'end_date', 'reason' ],
	properties => { %{ $form->{properties} }, reason => { type => 'string' } });
$h = $pg->rpc('check_compatibility', { subject => 'leave', schema => $json->encode(\%v2) }, claims => $claims{a}, method => 'GET');
check('GET /rpc/check_compatibility', $h, undef, status => 200);
$h = $pg->rpc('check_compatibility', { subject => 'leave', schema => \%v2 }, claims => $claims{a});
ok(!$h->{body}{compatible}, 'POST /rpc/check_compatibility: incompatible');
$h = $pg->rpc('register_schema', { subject => 'leave', schema => \%v2 }, claims => $claims{a});
$r = $replay->rpc(function => 'register_schema', args => { subject => 'leave', schema => \%v2 }, claims => $claims{a});
check('register an incompatible version', $h, $r, status => 409, code => 'LG004');
is_deeply([ map { $_->{type} } @{ decode_json($h->{body}{details}) } ], ['required_property_added'], '...details: the incompatible changes');
$h = $pg->rpc('register_schema', { subject => 'bad', schema => { type => 'text' } }, claims => $claims{a});
$r = $replay->rpc(function => 'register_schema', args => { subject => 'bad', schema => { type => 'text' } }, claims => $claims{a});
check('register an invalid schema', $h, $r, status => 422, code => 'LG011');
ok(ref decode_json($h->{body}{details}) eq 'ARRAY', '...details: the list of schema errors');
for my $who (qw(a b))
{
	my $subject = $who eq 'a' ? 'missing' : 'leave';
	$h = $pg->rpc('get_schema', { subject => $subject }, claims => $claims{$who}, method => 'GET');
	$r = $replay->rpc(function => 'get_schema', args => { subject => $subject }, claims => $claims{$who}, method => 'GET');
	check("get_schema of " . ($who eq 'a' ? 'a missing subject' : 'another tenant\'s subject'), $h, $r, status => 404, code => 'LG002');
}
$h = $pg->rpc('get_schema', { subject => 'leave', version => 9 }, claims => $claims{a}, method => 'GET');
$r = $replay->rpc(function => 'get_schema', args => { subject => 'leave', version => 9 }, claims => $claims{a}, method => 'GET');
check('get_schema of a missing version', $h, $r, status => 404, code => 'LG003');
$h = $pg->rpc('set_schema_state', { subject => 'leave', version => 1, state => 'disabled' }, claims => $claims{a});
$r = $replay->rpc(function => 'set_schema_state', args => { subject => 'leave', version => 1, state => 'disabled' }, claims => $claims{a});
check('POST /rpc/set_schema_state (void)', $h, $r, status => 204);
is($h->{content}, '', '...no body');
$h = $pg->rpc('set_compatibility', { subject => 'leave', mode => 'NONE' }, claims => $claims{a});
$r = $replay->rpc(function => 'set_compatibility', args => { subject => 'leave', mode => 'NONE' }, claims => $claims{a});
check('POST /rpc/set_compatibility (void)', $h, $r, status => 204);
is($h->{content}, '', '...no body');
$h = $pg->rpc('submit', { subject => 'leave', data => {}, version => 1 }, claims => $claims{a});
$r = $replay->rpc(function => 'submit', args => { subject => 'leave', data => {}, version => 1 }, claims => $claims{a});
check('submit to a disabled version', $h, $r, status => 409, code => 'LG013');
$h = $pg->rpc('submit', { subject => 'leave', data => {} }, claims => $claims{a}, method => 'GET');
check('GET /rpc/submit (volatile, READ ONLY)', $h, undef, status => 405);
$h = $pg->rpc('rule_test', { expr => 'amount > 10', data => { amount => 12 } }, claims => $claims{a});
check('POST /rpc/rule_test', $h, undef, status => 200);
is($h->{content}, 'true', '...true');
$h = $pg->rpc('rule_test', { expr => 'amount >', data => {} }, claims => $claims{a});
$r = $replay->rpc(function => 'rule_test', args => { expr => 'amount >', data => {} }, claims => $claims{a});
check('rule_test with a syntax error', $h, $r, status => 400, code => 'LR001');

# ============================================================ schema-cache reload
$h = $pg->get('/tags', claims => $claims{a});
check('a table that does not exist yet', $h, undef, status => 404);
$node->safe_psql('postgres', q{
	CREATE TABLE api.tags (id bigint GENERATED ALWAYS AS IDENTITY, tag text);
	SELECT lowcode.make_tenant_table('api.tags');
	GRANT SELECT, INSERT ON api.tags TO authenticated;
});
$pg->reload_schema;
$h = $pg->post('/tags', claims => $claims{a}, body => { tag => 'x' });
check('after make_tenant_table and a reload: POST /tags', $h, undef, status => 201);
$h = $pg->get('/tags?select=tag', claims => $claims{b});
is_deeply($h->{body}, [], '...b does not see a\'s tag');
$h = $pg->rpc('register_schema', { subject => 'survey', schema => { type => 'object' } }, claims => $claims{b});
$h = $pg->get('/forms?select=subject,latest_version&subject=eq.survey', claims => $claims{b});
is_deeply($h->{body}, [ { subject => 'survey', latest_version => 1 } ], 'register_schema: the form is listed at once (no reload needed)');
$pg->reload_schema;
$h = $pg->get('/forms?select=subject,latest_version&subject=eq.survey', claims => $claims{b});
is_deeply($h->{body}, [ { subject => 'survey', latest_version => 1 } ], '...and after a reload');

# the tenant's own views
$h = $pg->get('/tenant?select=id,slug', claims => $claims{a});
is_deeply($h->{body}, [ { id => $t{a}, slug => 'http-a' } ], 'GET /tenant: the caller\'s tenant only');
$h = $pg->get('/tenant_limits', claims => $claims{rate});
is_deeply([ sort map { $_->{name} } @{ $h->{body} } ], [qw(request_burst requests_per_second)], 'GET /tenant_limits: the tenant\'s overrides')
  or diag $h->{content};
$h = $pg->get('/events?select=type&type=like.registry.*', claims => $claims{b});
ok(@{ $h->{body} } >= 1 && !(grep { $_->{type} !~ /^registry\./ } @{ $h->{body} }), 'GET /events: the tenant\'s registry events');
$h = $pg->get('/registry_audit?select=actor_sub,action', claims => $claims{b});
is_deeply($h->{body}, [ { actor_sub => 'user-b', action => 'schema_registered' } ], 'GET /registry_audit: b\'s own history') or diag $h->{content};

# a claim nested deeper than the server's stack: PostgREST refuses the header first
my $deep = '{"role":"authenticated","tenant_id":"' . $t{a} . '","x":' . ('[' x 100000) . (']' x 100000) . '}';
{
	my $hd = PostgrestHttp::_b64url('{"alg":"HS256","typ":"JWT"}') . '.' . PostgrestHttp::_b64url($deep);
	my $tok = "$hd." . PostgrestHttp::_b64url(Digest::SHA::hmac_sha256($hd, $pg->jwt_secret));
	$h = $pg->get('/notes', jwt => $tok);
	note "deep claim: $h->{status} $h->{content}";
	is($h->{status}, 599, 'a JWT of 270 kB (a claim nested 100,000 deep) is refused by PostgREST\'s HTTP server: connection reset, no response');
	unlike($h->{content}, qr/54001/, '...the database never sees it');
	is($pg->get('/notes?select=id&limit=1', claims => $claims{b})->{status}, 200, '...and PostgREST serves the next request');
}

# ============================================================ sessions
# a session is proven by its token: the JWT carries sid and sid_proof (lowcode.session_proof(token))
my ($sid, $proof) = split /\|/, $node->safe_psql('postgres', "SELECT session_id, lowcode.session_proof(token) FROM lowcode.create_session('$t{a}', 'ann\@example.com')");
my ($sid_b, $proof_b) = split /\|/, $node->safe_psql('postgres', "SELECT session_id, lowcode.session_proof(token) FROM lowcode.create_session('$t{b}', 'bob\@example.com')");
my %sess = (%{ $claims{a} }, sid => $sid, sid_proof => $proof);
$h = $pg->get('/rpc/session_info', claims => \%sess);
check('GET /rpc/session_info with a session', $h, undef, status => 200);
is($h->{body}[0]{principal}, 'ann@example.com', '...the session\'s principal');
for my $c ([ 'unknown session', { %{ $claims{a} }, sid => '00000000-0000-4000-8000-000000000002' }, 'LS401' ],
	[ 'malformed sid', { %{ $claims{a} }, sid => 'nope' }, 'LS401' ],
	[ 'another tenant\'s session', { %{ $claims{a} }, sid => $sid_b, sid_proof => $proof_b }, 'LS442' ])
{
	$h = $pg->get('/notes', claims => $c->[1]);
	$r = $replay->get(table => 'api.notes', claims => $c->[1]);
	check("session: $c->[0]", $h, $r, status => 401, code => $c->[2], header => [ 'WWW-Authenticate', 'Bearer error="invalid_token"' ]);
	is($h->{body}{hint}, 'Sign in again to obtain a new session.', '...hint');
}
$node->safe_psql('postgres', "SELECT lowcode.revoke_session('$sid')");
$h = $pg->get('/notes', claims => \%sess);
$r = $replay->get(table => 'api.notes', claims => \%sess);
check('session: revoked', $h, $r, status => 401, code => 'LS441', header => [ 'WWW-Authenticate', 'Bearer error="invalid_token"' ]);
my ($sid2, $proof2) = split /\|/, $node->safe_psql('postgres', "SELECT session_id, lowcode.session_proof(token) FROM lowcode.create_session('$t{a}', 'ann\@example.com')");
$h = $pg->post('/rpc/end_session', claims => { %{ $claims{a} }, sid => $sid2, sid_proof => $proof2 }, body => {});
check('POST /rpc/end_session', $h, undef, status => 200);
is($h->{content}, 'true', '...true');
$h = $pg->get('/notes', claims => { %{ $claims{a} }, sid => $sid2, sid_proof => $proof2 });
check('after sign-out', $h, undef, status => 401, code => 'LS441');
my ($sid3, $proof3) = split /\|/, $node->safe_psql('postgres',
	"SELECT session_id, lowcode.session_proof(token) FROM lowcode.create_session('$t{a}', 'ann\@example.com', idle_timeout => '1 second')");
sleep 2.2;
$h = $pg->get('/notes', claims => { %{ $claims{a} }, sid => $sid3, sid_proof => $proof3 });
$r = $replay->get(table => 'api.notes', claims => { %{ $claims{a} }, sid => $sid3, sid_proof => $proof3 });
check('session: idle past its timeout', $h, $r, status => 401, code => 'LS440', header => [ 'WWW-Authenticate', 'Bearer error="invalid_token"' ]);

# ============================================================ rate limits and quotas
my @rate;
push @rate, $pg->get('/notes', claims => $claims{rate}) for 1 .. 5;
my @over = grep { $_->{status} == 429 } @rate;
ok(@over >= 1, 'burst of 3 at 1/s: requests beyond the burst answer 429') or diag explain [ map { $_->{status} } @rate ];
is($rate[0]{status}, 200, '...the first ones are admitted');
check('rate limit', $over[0] // {}, undef, status => 429, code => 'LQ429', header => [ 'Retry-After', qr/^[1-9]\d*$/ ]);
$r = $replay->get(table => 'api.notes', claims => $claims{rate});
check('rate limit (replayed right after)', $pg->get('/notes', claims => $claims{rate}), $r, status => 429, code => 'LQ429');
sleep(($over[0]{headers}{'retry-after'} // 1) + 0.2);
$h = $pg->get('/notes', claims => $claims{rate});
check('after waiting Retry-After seconds', $h, undef, status => 200);

check('rows quota: first row', $pg->post('/notes', claims => $claims{rows}, body => [ { title => 'r1' }, { title => 'r2' } ]), undef, status => 201);
$h = $pg->post('/notes', claims => $claims{rows}, body => { title => 'r3' });
$r = $replay->insert(table => 'api.notes', columns => ['title'], claims => $claims{rows}, body => [ { title => 'r3' } ]);
check('rows quota exceeded', $h, $r, status => 403, code => 'LQ431');
is($node->safe_psql('postgres', "SELECT count(*) FROM api.notes WHERE tenant_id = '$t{rows}'"), '2', '...nothing stored');
$h = $pg->post('/notes', claims => $claims{bytes}, body => { title => 'x' x 400 });
$r = $replay->insert(table => 'api.notes', columns => ['title'], claims => $claims{bytes}, body => [ { title => 'y' x 400 } ]);
check('storage quota exceeded', $h, $r, status => 413, code => 'LQ432');

# ============================================================ the measure
is(scalar @disagreements, 0, "the replay harness agrees with PostgREST on all $cases compared cases ($agreed agree)")
  or diag join("\n", @disagreements);
note "replay agreement: $agreed of $cases cases";

$pg->stop;
$node->stop;
done_testing();
