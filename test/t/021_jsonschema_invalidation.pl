# JSON Schema caches across backends: a changed document in the store
# invalidates compiled schemas that used it in every backend (at commit, not
# before), through the functions or direct DML; the backend-wide cache stays
# within lowcode.jsonschema_cache_size.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('jsonschema_invalidation', no_cron => 1);
my $uri = 'https://example.com/schemas/a.json';
$node->safe_psql('postgres', qq{SELECT lowcode.register_document('$uri', '{"type": "string"}')});

my $s1 = $node->background_psql('postgres');
my $s2 = $node->background_psql('postgres');

# session 1 compiles and caches (a call site that lives on: a prepared statement)
$s1->query_safe(qq{PREPARE p(jsonb) AS SELECT lowcode.jsonschema_is_valid('{"\$ref": "$uri"}', \$1)});
is($s1->query_safe(q{EXECUTE p('"x"')}), 't', 'session 1: valid against the first version');
is($s1->query_safe(q{EXECUTE p('1')}), 'f', 'session 1: cached form used');

# another backend changes the document: session 1 sees it at its next statement
$node->safe_psql('postgres', qq{SELECT lowcode.register_document('$uri', '{"type": "integer"}')});
is($s1->query_safe(q{EXECUTE p('"x"')}), 'f', 'session 1: the change of another backend is seen (prepared call site)');
is($s1->query_safe(qq{SELECT lowcode.jsonschema_is_valid('{"\$ref": "$uri"}', '1')}), 't',
	'session 1: the change is seen (backend-wide cache)');

# an uncommitted change is not seen; its commit is
$s2->query_safe('BEGIN');
$s2->query_safe(qq{SELECT lowcode.register_document('$uri', 'false')});
is($s1->query_safe(q{EXECUTE p('1')}), 't', 'session 1: an uncommitted change is not seen');
$s2->query_safe('COMMIT');
is($s1->query_safe(q{EXECUTE p('1')}), 'f', 'session 1: the committed change is seen');

# direct DML on the store table invalidates too (statement trigger)
$node->safe_psql('postgres', qq{UPDATE lowcode.schema_documents SET document = '{"minimum": 10}' WHERE uri = '$uri'});
is($s1->query_safe(q{EXECUTE p('5')}), 'f', 'session 1: direct UPDATE of the store is seen');
is($s1->query_safe(q{EXECUTE p('50')}), 't', 'session 1: direct UPDATE of the store is seen (valid case)');

# unregistering makes the reference unresolvable at the next compilation
$node->safe_psql('postgres', qq{SELECT lowcode.unregister_document('$uri')});
my ($ret, $out, $err) = $node->psql('postgres',
	qq{SELECT lowcode.jsonschema_is_valid('{"\$ref": "$uri"}', '1')});
like($err, qr/cannot resolve/, 'unregistered document: reference no longer resolves');

# schemas that load nothing are not recompiled by store changes, and the
# backend cache is bounded
$s1->query_safe('SET lowcode.jsonschema_cache_size = 3');
for my $i (1 .. 10)
{
	$s1->query_safe(qq{SELECT lowcode.jsonschema_is_valid('{"maximum": $i}', '1')});
}
is($s1->query_safe(q{SELECT (lowcode.jsonschema_cache_stats()->>'entries')::int <= 3}), 't',
	'backend cache stays within lowcode.jsonschema_cache_size');
is($s1->query_safe(q{SELECT lowcode.jsonschema_is_valid('{"maximum": 1}', '2')}), 'f',
	'evicted schemas compile again');

$s1->quit;
$s2->quit;
$node->stop;
done_testing();
