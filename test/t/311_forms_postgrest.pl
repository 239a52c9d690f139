# Forms through PostgREST (issue 15), replayed with PostgrestReplay: x-rules at
# every level (array items, $defs, if/then branches) with their errors at the
# right field, warnings, refusals of bad rules at registration (422 with the
# rule's place), transition rules and ratcheting on PATCH /submissions,
# formats asserted, and the author's field order through /rpc/register_form,
# /rpc/get_form and GET /forms.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;
use PostgrestReplay;

my $node = lowcode_node('forms_postgrest');
PostgrestReplay->setup_roles($node);
my $json = JSON::PP->new->utf8->canonical;

my $t = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('forms-a', NULL, 'enterprise')");
my $claims = { role => 'authenticated', tenant_id => $t, sub => 'fay' };
my $api = PostgrestReplay->new(node => $node, pool_size => 2);

sub rpc
{
	my ($fn, $args, %o) = @_;
	my %types = (schema => ($fn eq 'register_form' ? 'json' : 'jsonb'), instance => 'jsonb', data => 'jsonb', version => 'int');
	# a JSON text given for a json/jsonb argument goes into the body as JSON, as a
	# front end sends it (PostgREST keeps the text, so key order too)
	my $body = '{' . join(', ', map {
		my $v = $args->{$_};
		$json->encode($_) . ': ' . (defined $types{$_} && $types{$_} =~ /^json/ && !ref $v && defined $v && $v =~ /^\s*[\[{]/
			? $v : $json->encode($v)) } sort keys %$args) . '}';
	return $api->rpc(function => "lowcode.$fn", args => $args, claims => $claims, raw_body => (uc($o{method} // "POST") eq "GET" ? undef : $body),
		types => { map { $_ => $types{$_} } grep { $types{$_} } keys %$args }, %o);
}
sub scalar_of
{
	my ($res) = @_;
	my $row = $res->{rows}[0] // {};
	return defined $row->{body} ? JSON::PP->new->allow_nonref->decode($row->{body}) : undef;
}
sub places { my ($errors) = @_; return [ sort map { "$_->{instancePath} $_->{keyword}: $_->{message}" } @$errors ]; }

# --- rules at every level, registered over HTTP
my $order = {
	type => 'object',
	'$defs' => { qty => { type => 'integer', 'x-rules' => [ { rule => 'self > 0', message => 'at least one' } ] } },
	properties => {
		delivery => { type => 'string', format => 'date' },
		pickup => { type => 'boolean' },
		address => { type => 'string' },
		lines => { type => 'array', maxItems => 50, items => {
			type => 'object',
			properties => { sku => { type => 'string' }, qty => { '$ref' => '#/$defs/qty' }, stock => { type => 'integer' } },
			'x-rules' => [ { rule => '!has(self.stock) || self.qty <= self.stock', fieldPath => '.qty',
				messageExpression => "'only ' + string(self.stock) + ' of ' + self.sku + ' left'" } ] } } },
	if => { properties => { pickup => { const => JSON::PP::false } } },
	then => { 'x-rules' => [ { rule => 'has(self.address)', message => 'an address is needed for delivery',
		fieldPath => '.address', reason => 'FieldValueRequired' } ] },
	'x-rules' => [ { rule => 'self.lines.size() <= 10', message => 'a long order: consider splitting it', severity => 'warning' } ] };
my $res = rpc('register_schema', { subject => 'order', schema => $json->encode($order) });
is($res->{status}, 200, 'POST /rpc/register_schema with rules in items, $defs and then') or diag explain $res->{error};

$res = rpc('validate', { subject => 'order', instance => $json->encode({ pickup => JSON::PP::false, delivery => '2026-02-30',
	lines => [ { sku => 'A', qty => 0 }, { sku => 'B', qty => 9, stock => 4 } ] }) });
# POST: PostgREST passes GET arguments as text, so a jsonb instance goes in a body
is($res->{status}, 200, 'POST /rpc/validate');
is_deeply(places(scalar_of($res)->{errors}), [
	' if: must match "then" schema',
	'/address x-rules: an address is needed for delivery',
	'/delivery format: must match format "date"',
	'/lines/0/qty x-rules: at least one',
	'/lines/1/qty x-rules: only 4 of B left' ], '...every error at its field: items, $defs, the then branch, the format');

$res = rpc('validate', { subject => 'order', instance => $json->encode({ pickup => JSON::PP::true,
	lines => [ map { { sku => "S$_", qty => 1 } } 1 .. 11 ] }) });
my $v = scalar_of($res);
ok($v->{valid}, 'a warning does not make the instance invalid');
is_deeply(places($v->{warnings}), [ ' x-rules: a long order: consider splitting it' ], '...and is reported');

# --- refusals at registration: 422 with the rule's place
$res = rpc('register_schema', { subject => 'bad', schema => '{"type": "object", "properties": {"lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}, "x-rules": [{"rule": "self.qyt > 0"}]}}}}' });
is($res->{status}, 422, 'a rule naming a field the schema lacks: 422');
is($res->{error}{code}, 'LG011', '...LG011');
like($res->{error}{message}, qr{/properties/lines/items/x-rules/0 .*no such field 'qyt'}, '...naming the rule and the field');
$res = rpc('register_schema', { subject => 'bad', schema => '{"type": "object", "properties": {"name": {"type": "string"}}, "x-rules": [{"rule": "self.name > 3"}]}' });
is($res->{status}, 422, 'a string compared with a number: 422');
like($res->{error}{message}, qr/compares string with int/, '...says so');
$res = rpc('register_schema', { subject => 'bad', schema => '{"x-rules": [{"rule": "!has(discount) || discount < 5"}]}' });
like($res->{error}{message}, qr/has\(self\.field\)/, 'has(field) is refused with the way to write it');

# --- transition rules and ratcheting on PATCH /submissions
my $claim = { type => 'object',
	properties => { status => { enum => [qw(draft submitted approved)] }, amount => { type => 'number' }, note => { type => 'string' } },
	'x-rules' => [
		{ rule => "{'draft': 0, 'submitted': 1, 'approved': 2}[self.status] >= {'draft': 0, 'submitted': 1, 'approved': 2}[oldSelf.status]",
		  message => 'the status only moves forward', fieldPath => '.status' },
		{ rule => "oldSelf.status != 'approved' || self.amount <= oldSelf.amount", message => 'an approved amount may not grow',
		  fieldPath => '.amount' } ] };
$res = rpc('register_schema', { subject => 'claim', schema => $json->encode($claim) });
is($res->{status}, 200, 'a form with transition rules') or diag explain $res->{error};
$res = rpc('submit', { subject => 'claim', data => '{"status": "approved", "amount": 10}' });
is($res->{status}, 200, 'POST /rpc/submit: transition rules are skipped on create') or diag explain $res->{error};
my $id = scalar_of($res)->{id};
$res = $api->update(table => 'lowcode.submissions', where => "id = $id", claims => $claims,
	body => { data => { status => 'draft', amount => 10 } });
is($res->{status}, 422, 'PATCH /submissions moving the status back: 422');
is_deeply(places(decode_json($res->{error}{details})), [ '/status x-rules: the status only moves forward' ], '...at /status');
$res = $api->update(table => 'lowcode.submissions', where => "id = $id", claims => $claims,
	body => { data => { status => 'approved', amount => 12 } });
is_deeply(places(decode_json($res->{error}{details})), [ '/amount x-rules: an approved amount may not grow' ],
	'PATCH growing an approved amount: 422 at /amount');
$res = $api->update(table => 'lowcode.submissions', where => "id = $id", claims => $claims,
	body => { data => { status => 'approved', amount => 8, note => 'less' } });
is($res->{status}, 204, 'PATCH within the rules: 204') or diag explain $res->{error};

# ratcheting: a value stored before a stricter version stays acceptable while unchanged
$node->safe_psql('postgres', "SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$t\"}', false);
	SELECT lowcode.register_schema('profile', '{\"type\": \"object\", \"properties\": {\"nick\": {\"type\": \"string\"}, \"bio\": {\"type\": \"string\"}}}');
	SELECT lowcode.set_compatibility('profile', 'NONE');");
$res = rpc('submit', { subject => 'profile', data => '{"nick": "x", "bio": "hi"}' });
my $pid = scalar_of($res)->{id};
$res = rpc('register_schema', { subject => 'profile', schema => '{"type": "object", "properties": {"nick": {"type": "string", "x-rules": [{"rule": "self.size() >= 3", "message": "3 characters or more"}]}, "bio": {"type": "string"}}}' });
is(scalar_of($res), 2, 'a stricter version 2');
$res = $api->update(table => 'lowcode.submissions', where => "id = $pid", claims => $claims,
	body => { version => 2, data => { nick => 'x', bio => 'hello' } });
is($res->{status}, 204, 'PATCH to version 2 changing only bio: the unchanged short nick does not block it') or diag explain $res->{error};
$res = $api->update(table => 'lowcode.submissions', where => "id = $pid", claims => $claims,
	body => { data => { nick => 'y', bio => 'hello' } });
is_deeply(places(decode_json($res->{error}{details})), [ '/nick x-rules: 3 characters or more' ], 'a changed nick is judged');

# --- formats asserted: the browser's "date" and "email" are the database's
$res = rpc('submit', { subject => 'order', data => '{"pickup": true, "delivery": "2026-13-45", "lines": []}' });
is($res->{status}, 422, 'POST /rpc/submit with an impossible date: 422');

# --- the author's field order
my $text = '{"type": "object", "properties": {"name": {"type": "string", "title": "Name"}, "email": {"type": "string", "format": "email"}, "age": {"type": "integer"}, "city": {"type": "string"}}}';
$res = rpc('register_form', { subject => 'signup', schema => $text });
is($res->{status}, 200, 'POST /rpc/register_form') or diag explain $res->{error};
sub key_order { my ($raw) = @_; my @k = ($raw =~ /"(\w+)": \{"type"/g); return \@k; }
$res = rpc('get_form', { subject => 'signup' }, method => 'GET');
is($res->{status}, 200, 'GET /rpc/get_form');
is_deeply(key_order($res->{rows}[0]{body}), [qw(name email age city)], '...in the author\'s order');
$res = $api->get(table => 'lowcode.forms', where => "subject = 'signup'", claims => $claims);
my ($ordered) = $res->{rows}[0]{body} =~ /"schema_json":(.*)$/s;
is_deeply(key_order($ordered // ''), [qw(name email age city)], 'GET /forms: schema_json in the author\'s order')
	or diag $res->{rows}[0]{body};

done_testing();
