# Without shared_preload_libraries: the extension installs, pre_request()
# and the tenant tables work without quotas, limits can be set, and the
# functions that read shared memory fail with a clear error.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('quota_no_preload', no_cron => 1, no_start => 1);
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->start;
my $sql = sub { $node->safe_psql('postgres', $_[0]) };
$sql->('CREATE EXTENSION pg_lowcode');

my $t = $sql->("SELECT lowcode.create_tenant('plain-co')");
$sql->("SELECT lowcode.set_tenant_limit('$t', 'request_burst', 1)");
$sql->("SELECT lowcode.set_tenant_limit('$t', 'max_rows', 1)");
is($sql->("SELECT value FROM lowcode.tenant_limits('$t') WHERE name = 'request_burst'"), 1, 'limits can be set and read');
my $claims = "SELECT FROM set_config('request.jwt.claims', '{\"tenant_id\": \"$t\"}', false);";
is($sql->($claims . 'SELECT count(lowcode.pre_request()) FROM generate_series(1, 5)'), 5,
	'pre_request() works, without a rate limit');
$sql->(q{CREATE TABLE items (id int, v text); SELECT lowcode.make_tenant_table('items');});
$sql->($claims . "INSERT INTO items VALUES (1, 'a'), (2, 'b')");
is($sql->('SELECT count(*) FROM items'), 2, 'tenant tables work, without quotas');
for my $f ('SELECT * FROM lowcode.tenant_stats', 'SELECT lowcode.flush_usage()', "SELECT * FROM lowcode.quota_cached_limits('$t')")
{
	my ($rc, $out, $err) = $node->psql('postgres', $f);
	like($err, qr/requires pg_lowcode in shared_preload_libraries/, "$f: clear error");
}
$node->stop;
done_testing();
