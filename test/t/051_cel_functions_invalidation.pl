# Registered CEL functions across backends: a backend that has compiled and
# cached rules sees a re-registration made by another backend at its next
# statement (register_rule_function broadcasts a cache invalidation), and its
# compiled-rule caches do not keep calling the old function.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cel_inval', port => ($ENV{CEL_TEST_PORT} // 55431) + 6);
$node->init;
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_lowcode;
	CREATE FUNCTION one(x int8) RETURNS int8 LANGUAGE sql IMMUTABLE AS 'SELECT x + 1';
	CREATE FUNCTION two(x int8) RETURNS int8 LANGUAGE sql IMMUTABLE AS 'SELECT x + 2';
	SELECT lowcode.register_rule_function('bump', 'one(int8)');
});

my $a = $node->background_psql('postgres', on_error_stop => 0);
is($a->query_safe(q{SELECT lowcode.rule_eval('bump(x)', '{"x": 10}')}), '11', 'backend A uses bump = one');
# compiled once more, from the backend cache
is($a->query_safe(q{SELECT lowcode.rule_eval('bump(x)', '{"x": 20}')}), '21', 'cached rule, same function');

$node->safe_psql('postgres', q{SELECT lowcode.register_rule_function('bump', 'two(int8)')});
is($a->query_safe(q{SELECT lowcode.rule_eval('bump(x)', '{"x": 10}')}), '12',
	'backend A sees the re-registration made by another backend');

$node->safe_psql('postgres', q{DELETE FROM lowcode.rule_functions; SELECT lowcode._rule_functions_changed()});
$a->query(q{SELECT lowcode.rule_eval('bump(x)', '{"x": 10}')});
like($a->{stderr}, qr/unbound function: bump/, 'after unregistering, the name is unbound in backend A');

$a->quit;
$node->stop;
done_testing();
