# Forms through a real PostgREST (issue 15; test/lib/PostgrestHttp.pm): the
# author's field order through POST /rpc/register_form and GET
# /rpc/get_form and /forms, messages in the request's Accept-Language,
# rules at every level with their errors at the right field, refusals of a
# bad rule (422 LG011), transition rules on PATCH /submissions, warnings.
use strict;
use warnings;
use utf8;

use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;
use PostgrestHttp;

plan skip_all => 'no PostgREST binary (LOWCODE_SHARED/bin/postgrest)' unless PostgrestHttp->binary;

my $node = lowcode_node('forms_http');
PostgrestHttp->setup_roles($node);
my $t = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('forms-http', NULL, 'enterprise')});
my $pg = PostgrestHttp->new(node => $node, schemas => ['lowcode'], extra_search_path => ['public', 'lowcode']);
$pg->start;
my %claims = (role => 'authenticated', tenant_id => $t, sub => 'fay');

# --- the author's order: the body is sent as written (JSON::PP would sort the keys)
my $form = '{"subject": "signup", "schema": {"type": "object", "properties": {"name": {"type": "string", "title": "Name", "minLength": 2}, "email": {"type": "string", "format": "email"}, "age": {"type": "integer", "minimum": 18}, "city": {"type": "string"}}, "required": ["name", "email"]}}';
my $res = $pg->request(POST => '/rpc/register_form', claims => \%claims, body => $form);
is($res->{status}, 200, 'POST /rpc/register_form') or diag $res->{content};
is($res->{body}, 1, '...version 1');
sub key_order { my ($raw) = @_; my @k = grep { $_ ne "schema_json" } ($raw =~ /"(\w+)"\s*:\s*\{\s*"type"/g); return \@k; }
$res = $pg->request(GET => '/rpc/get_form', claims => \%claims, query => { subject => 'signup' });
is($res->{status}, 200, 'GET /rpc/get_form');
is_deeply(key_order($res->{content}), [qw(name email age city)], '...the fields in the author\'s order');
$res = $pg->request(GET => '/forms', claims => \%claims, query => { select => 'schema_json', subject => 'eq.signup' });
is_deeply(key_order($res->{content}), [qw(name email age city)], 'GET /forms?select=schema_json: the author\'s order');

# --- messages in the request's language, titles, formats asserted
$res = $pg->request(POST => '/rpc/validate', claims => \%claims, headers => { 'Accept-Language' => 'de-DE,de;q=0.9,en;q=0.5' },
	body => { subject => 'signup', instance => { name => 'A', email => 'nope', age => 12 } });
is($res->{status}, 200, 'POST /rpc/validate with Accept-Language: de');
is_deeply([ sort map { "$_->{instancePath} $_->{message}" } @{ $res->{body}{errors} } ], [
	'/age muss >= 18 sein',
	'/email muss diesem Format entsprechen: "email"',
	'/name Name: darf nicht kürzer als 2 Zeichen sein' ], '...German messages, the title, the format asserted');
$res = $pg->request(POST => '/rpc/validate', claims => \%claims, headers => { 'Accept-Language' => 'ja' },
	body => { subject => 'signup', instance => {} });
is_deeply([ sort map { $_->{message} } @{ $res->{body}{errors} } ],
	[ '必要なプロパティNameがなければいけない', '必要なプロパティemailがなければいけない' ], 'Accept-Language: ja');

# --- rules at every level
my $order = { type => 'object', properties => { lines => { type => 'array', maxItems => 20, items => {
	type => 'object', properties => { sku => { type => 'string' }, qty => { type => 'integer' }, stock => { type => 'integer' } },
	'x-rules' => [ { rule => 'self.qty <= self.stock', fieldPath => '.qty',
		messageExpression => "'only ' + string(self.stock) + ' of ' + self.sku" } ] } } },
	'x-rules' => [ { rule => 'self.lines.size() <= 2', message => 'a long order', severity => 'warning' } ] };
$res = $pg->request(POST => '/rpc/register_schema', claims => \%claims, body => { subject => 'order', schema => $order });
is($res->{status}, 200, 'POST /rpc/register_schema with rules in items') or diag $res->{content};
$res = $pg->request(POST => '/rpc/validate', claims => \%claims,
	body => { subject => 'order', instance => { lines => [ { sku => 'A', qty => 1, stock => 2 }, { sku => 'B', qty => 5, stock => 3 }, { sku => 'C', qty => 1, stock => 1 } ] } });
is_deeply([ map { "$_->{instancePath} $_->{message}" } @{ $res->{body}{errors} } ], [ '/lines/1/qty only 3 of B' ], 'the error of the second line, at its qty');
is_deeply([ map { $_->{message} } @{ $res->{body}{warnings} } ], [ 'a long order' ], '...and the warning');

$res = $pg->request(POST => '/rpc/register_schema', claims => \%claims,
	body => { subject => 'bad', schema => { type => 'object', properties => { n => { type => 'string' } }, 'x-rules' => [ { rule => 'self.n > 1' } ] } });
is($res->{status}, 422, 'a rule comparing a string with a number: 422');
is($res->{body}{code}, 'LG011', '...LG011');
like($res->{body}{message}, qr{/x-rules/0 .*compares string with int}, '...with the rule\'s place');

# --- transition rules on PATCH /submissions
my $claim = { type => 'object', properties => { status => { enum => [qw(draft approved)] }, amount => { type => 'number' } },
	'x-rules' => [ { rule => "oldSelf.status != 'approved' || self.amount <= oldSelf.amount",
		message => 'an approved amount may not grow', fieldPath => '.amount' } ] };
$res = $pg->request(POST => '/rpc/register_schema', claims => \%claims, body => { subject => 'claim', schema => $claim });
$res = $pg->request(POST => '/rpc/submit', claims => \%claims, body => { subject => 'claim', data => { status => 'approved', amount => 10 } });
is($res->{status}, 200, 'POST /rpc/submit') or diag $res->{content};
my $id = $res->{body}{id};
$res = $pg->request(PATCH => "/submissions?id=eq.$id", claims => \%claims, body => { data => { status => 'approved', amount => 11 } });
is($res->{status}, 422, 'PATCH /submissions growing an approved amount: 422');
is_deeply([ map { "$_->{instancePath} $_->{message}" } @{ decode_json($res->{body}{details}) } ],
	[ '/amount an approved amount may not grow' ], '...at /amount');
$res = $pg->request(PATCH => "/submissions?id=eq.$id", claims => \%claims, body => { data => { status => 'approved', amount => 9 } });
is($res->{status}, 204, 'PATCH within the rule: 204') or diag $res->{content};

$pg->stop;
$node->stop;
done_testing();
