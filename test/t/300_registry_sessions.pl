# The registry's immediate effect across backends: a version registered,
# deprecated or deleted in one session is what another, long-lived session
# validates against on its very next call (no reload, no reconnect), and the
# compiled form of a version is reused by that session until the registry
# content changes.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;


my $node = lowcode_node('registry_sessions');

my $t = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('sessions-t')");
my $claims = qq{{"tenant_id": "$t"}};
my $ctx = "SELECT set_config('request.jwt.claims', '$claims', false)";

# session 1 stays connected for the whole test
my $s1 = $node->background_psql('postgres', on_error_stop => 0);
$s1->query_safe($ctx);

sub in_s2
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', "$ctx; $sql");
}

in_s2(q{SELECT lowcode.register_schema('order', '{"type": "object", "properties": {"qty": {"type": "integer", "maximum": 10}}, "additionalProperties": false}')});

sub s1_validate
{
	my ($doc) = @_;
	my $r = $s1->query_safe(qq{SELECT lowcode.validate('order', '$doc') ->> 'valid'});
	chomp $r;
	return $r;
}

is(s1_validate('{"qty": 5}'), 'true', 'session 1 validates against version 1');
is(s1_validate('{"qty": 50}'), 'false', 'version 1: maximum 10');
is(s1_validate('{"qty": 5, "note": "x"}'), 'false', 'version 1: no other property');

# compiled once, then reused
my $stats = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'entries'});
chomp $stats;
is($stats, '1', 'one compiled version in session 1');
my $gen1 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'generation'});
my $c1 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'compiles'});
s1_validate('{"qty": 1}') for 1 .. 5;
$s1->query_safe(q{SELECT count(*) FROM generate_series(1, 100) i WHERE (lowcode.validate('order', jsonb_build_object('qty', i % 10)) ->> 'valid')::boolean});
my $gen2 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'generation'});
my $c2 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'compiles'});
is($gen2, $gen1, 'repeated validations cause no invalidation');
is($c2, $c1, 'and reuse the compiled version (no compilation in 105 calls)');

# session 1 listens to the tenant's event channel (issue 13.7)
my $chan = $node->safe_psql('postgres', "SELECT lowcode.event_channel('$t')");
$s1->query_safe(qq{LISTEN "$chan"});

# session 2 registers a wider version 2: session 1 sees it on its next call
in_s2(q{SELECT lowcode.register_schema('order', '{"type": "object", "properties": {"qty": {"type": "integer", "maximum": 100}, "note": {"type": "string"}}, "additionalProperties": false}')});
# the worker sends the notification just after the commit (issue 21): wait for it
my $notified = '';
for (1 .. 50)
{
	my ($o) = $s1->query('SELECT 1');
	$notified .= $o // '';
	last if $notified =~ /Asynchronous notification/;
	select(undef, undef, undef, 0.1);
}
like($notified, qr/Asynchronous notification "\Q$chan\E" with payload "\{"tenant_id":"$t","id":\d+,"type":"registry.schema_registered"\}"/,
	'session 1, listening, was notified of the registration');
$s1->query_safe('UNLISTEN *');
is(s1_validate('{"qty": 50, "note": "x"}'), 'true', 'session 1 uses version 2 at once');
my $gen3 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'generation'});
isnt($gen3, $gen2, 'the registration invalidated session 1\'s cache');
my $c3 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'compiles'});
is($c3, $c2 + 1, 'version 2 was compiled once');
my $v = $s1->query_safe(q{SELECT lowcode.registry_validate_c('order', '{}', NULL, true) ->> 'version'});
chomp $v;
is($v, '2', 'latest is version 2 in session 1');

# deprecation in session 2: session 1 falls back to version 1 at once
in_s2(q{SELECT lowcode.deprecate_schema('order', 2)});
is(s1_validate('{"qty": 50, "note": "x"}'), 'false', 'after deprecation session 1 validates against version 1 again');
is($s1->query_safe(q{SELECT lowcode.validate('order', '{"qty": 50, "note": "x"}', 2) ->> 'valid'}), 'true',
	'a deprecated version still validates when asked for by number');

# re-enabled, then disabled: a disabled version is refused by number
in_s2(q{SELECT lowcode.set_schema_state('order', 2, 'disabled')});
my ($ret, $out, $err) = $node->psql('postgres', "$ctx; SELECT lowcode.validate('order', '{}', 2)");
like($err, qr/LG013/, 'a disabled version is refused (new session)');
$s1->query(q{SELECT lowcode.validate('order', '{}', 2)});
like($s1->{stderr}, qr/LG013/, 'and refused in session 1 on its next call');
$s1->{stderr} = '';

# soft deletion of version 1 while version 2 is disabled: no usable version left
in_s2(q{SELECT lowcode.delete_schema('order', 1)});
$s1->query(q{SELECT lowcode.validate('order', '{"qty": 1}')});
like($s1->{stderr}, qr/LG002/, 'session 1 sees the deletion on its next call');
$s1->{stderr} = '';

# a cached subject in another tenant's context is never served
my $u = $node->safe_psql('postgres', "SELECT lowcode.create_tenant('sessions-u')");
$s1->query(qq{SELECT set_config('request.jwt.claims', '{"tenant_id": "$u"}', false)});
in_s2(q{SELECT lowcode.set_schema_state('order', 2, 'enabled')});
$s1->query(q{SELECT lowcode.validate('order', '{"qty": 1}')});
like($s1->{stderr}, qr/LG002/, 'the same backend under tenant u: subject not found');
$s1->{stderr} = '';
$s1->query_safe($ctx);
is(s1_validate('{"qty": 50, "note": "x"}'), 'true', 'back under tenant t: version 2 enabled again');

# a version that references another subject: compiled once, reused across
# requests, and recompiled when the referenced subject changes
in_s2(q{SELECT lowcode.register_schema('addr', '{"type": "object", "properties": {"zip": {"type": "string", "maxLength": 5}}}')});
in_s2(q{SELECT lowcode.register_schema('customer', '{"type": "object", "properties": {"address": {"$ref": "lowcode:addr"}}}')});
sub customer_valid
{
	my ($doc) = @_;
	my $r = $s1->query_safe(qq{SELECT lowcode.validate('customer', '$doc') ->> 'valid'});
	chomp $r;
	return $r;
}
is(customer_valid('{"address": {"zip": "123456"}}'), 'false', 'the referenced subject applies (maxLength 5)');
my $cc1 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'compiles'});
customer_valid('{"address": {"zip": "1"}}') for 1 .. 5;    # five requests (transactions)
my $cc2 = $s1->query_safe(q{SELECT lowcode.registry_cache_stats() ->> 'compiles'});
is($cc2, $cc1, 'the version with a reference is reused across requests');
in_s2(q{SELECT lowcode.register_schema('addr', '{"type": "object", "properties": {"zip": {"type": "string", "maxLength": 9}}}')});
is(customer_valid('{"address": {"zip": "123456"}}'), 'true', 'a new version of the referenced subject applies at once');

$s1->quit;
$node->stop;
done_testing();
