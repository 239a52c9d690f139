# Row quota under concurrency: inserts are reserved in shared memory as soon
# as they are made, so two transactions cannot both use the last free rows;
# a rolled-back transaction releases its reservation; deletes free space
# only when they commit.
use strict;
use warnings;

use DBI;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('quota_concurrency');
my $sql = sub { $node->safe_psql('postgres', $_[0]) };
my $t = $sql->("SELECT lowcode.create_tenant('conc-co', NULL, 'enterprise')");
$sql->("SELECT lowcode.set_tenant_limit('$t', 'max_rows', 5)");
$sql->(q{CREATE TABLE items (id int, v text); SELECT lowcode.make_tenant_table('items');});

sub connect_as_tenant
{
	my $dsn = sprintf('dbi:Pg:dbname=postgres;host=%s;port=%d', $node->host, $node->port);
	my $dbh = DBI->connect($dsn, '', '', { AutoCommit => 1, RaiseError => 0, PrintError => 0 })
	  or die "cannot connect: $DBI::errstr";
	$dbh->do("SELECT set_config('request.jwt.claims', '{\"tenant_id\": \"$t\"}', false)") or die $dbh->errstr;
	return $dbh;
}
my ($one, $two) = (connect_as_tenant(), connect_as_tenant());
sub ins { my ($dbh, $n, $from) = @_; return $dbh->do("INSERT INTO items SELECT g, 'x' FROM generate_series($from, $from + $n - 1) g"); }
sub used { $sql->("SELECT rows_used || '/' || inflight_rows FROM lowcode.tenant_stats JOIN lowcode.quota_live() USING (tenant_id) WHERE tenant_id = '$t'") }

$one->begin_work;
ok(ins($one, 3, 1), 'transaction one inserts 3 rows (not committed)');
ok(!ins($two, 3, 10), 'transaction two cannot insert 3 more: one\'s rows are reserved');
like($two->errstr, qr/LQ431/, '... row quota exceeded');
ok(ins($two, 2, 20), 'two inserts the 2 rows left');
is(used(), '2/3', 'usage 2 committed rows, 3 reserved');
$one->rollback;
is(used(), '2/0', 'the rollback releases the reservation');
ok(ins($two, 3, 30), 'the released rows can be used');
is($sql->('SELECT count(*) FROM items'), 5, '5 rows stored: exactly the quota');

$one->begin_work;
ok($one->do('DELETE FROM items WHERE id IN (20, 21)'), 'one deletes 2 rows (not committed)');
ok(!ins($two, 1, 40), 'an uncommitted delete frees nothing for others');
ok(ins($one, 2, 50), '... but frees space for its own transaction');
$one->commit;
is(used(), '5/0', 'after commit: 5 rows used, nothing reserved');
ok(!ins($two, 1, 60), 'the quota still holds');

$one->disconnect;
$two->disconnect;
$node->stop;
done_testing();
