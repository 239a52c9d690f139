# A full quota table: more tenants than lowcode.quota_max_tenants.  Entries
# holding unflushed counters are never evicted (requests of tenants without
# room are admitted unchecked and counted as overflows); once flushed, the
# least recently used entry of a full bucket is evicted.  Never an error.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# 100 tenants -> 200 slots; the worker does not flush during the test
my $node = lowcode_node('quota_full', conf => "lowcode.quota_max_tenants = 100\nlowcode.sweep_interval = '1h'\n");
my $sql = sub { $node->safe_psql('postgres', $_[0]) };

$sql->(q{INSERT INTO lowcode.tenants (id, slug, name, tier)
	SELECT ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, 'full-' || i, 'T' || i, 'enterprise'
	  FROM generate_series(1, 600) i});
$sql->(q{CREATE FUNCTION requests(first int, last int) RETURNS bigint LANGUAGE plpgsql AS $$
	DECLARE n bigint := 0;
	BEGIN
	  FOR i IN first .. last LOOP
	    PERFORM set_config('request.jwt.claims',
	      '{"tenant_id":"00000000-0000-0000-0000-' || lpad(i::text, 12, '0') || '"}', true);
	    PERFORM lowcode.pre_request();
	    n := n + 1;
	  END LOOP;
	  RETURN n;
	END $$});

my $capacity = $sql->('SELECT capacity FROM lowcode.quota_memory()');
cmp_ok($capacity, '>=', 200, "capacity: twice lowcode.quota_max_tenants, in whole buckets ($capacity)");
is($sql->('SELECT requests(1, 300)'), 300, '300 tenants: every request admitted');
my ($entries, $overflows, $evictions) = split /\|/, $sql->('SELECT entries, overflows, evictions FROM lowcode.quota_memory()');
cmp_ok($entries, '<=', $capacity, "entries stay within the capacity ($entries)");
my $unchecked = $overflows;
cmp_ok($overflows, '>', 0, "tenants without room were admitted unchecked ($overflows overflows)");
is($evictions, 0, 'no entry with unflushed counters was evicted');

$sql->('SELECT lowcode.flush_usage()');
is($sql->('SELECT requests(301, 600)'), 300, '300 more tenants after a flush: every request admitted');
($entries, $overflows, $evictions) = split /\|/, $sql->('SELECT entries, overflows, evictions FROM lowcode.quota_memory()');
cmp_ok($evictions, '>', 0, "flushed entries are evicted for new tenants ($evictions evictions)");

# the rate limit still holds for a tenant with an entry (after a flush, a
# tenant always gets one)
$sql->(q{SELECT lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000600', 'request_burst', 1),
	lowcode.set_tenant_limit('00000000-0000-0000-0000-000000000600', 'requests_per_second', 1)});
$sql->('SELECT lowcode.flush_usage()');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT requests(600, 600); SELECT requests(600, 600); SELECT requests(600, 600)');
like($err, qr/LQ429/, 'a rate-limited tenant is still limited');
is($sql->(q{SELECT sum(requests) FROM lowcode.tenant_usage WHERE tenant_id <= '00000000-0000-0000-0000-000000000300'}) + 0,
	300 - $unchecked, 'usage holds the first 300 requests but the ones admitted unchecked');

$node->stop;
done_testing();
