# LowcodeCitus: a Citus cluster on loopback for pg_lowcode's scale-out tests.
#
# citus_cluster(NAME, workers => 2) returns ($coordinator, @workers): started
# PostgreSQL::Test::Cluster nodes with shared_preload_libraries =
# 'citus,pg_lowcode' (Citus first, as it requires), CREATE EXTENSION citus on
# every node, the workers added to the coordinator, and pg_lowcode created on
# the coordinator (Citus propagates CREATE EXTENSION to the workers).
# citus_node(NAME, conf => ...) starts one more node like those (Citus created,
# pg_lowcode not), for citus_add_node later (test 502).
# citus_worker_login($worker, ROLE...) lets the request roles log in on that
# worker only (docs/scale-out.md, step 3).
# Citus must be built into the private PostgreSQL copy first
# (scripts/build-citus.sh; scripts/test.sh does it when a test needs it).
package LowcodeCitus;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use LowcodeTest;

our @EXPORT = qw(citus_cluster citus_node citus_worker_login citus_available citus_worker_placement citus_force_rls
  citus_shard_port citus_explain_as citus_coordinator_errors);

# Is Citus installed in the PostgreSQL these tests run?
sub citus_available
{
	my $libdir = `pg_config --pkglibdir`;
	chomp $libdir;
	return -f "$libdir/citus.so";
}

sub citus_node
{
	my ($name, %opts) = @_;
	# wal_level = logical: shard moves may use logical replication
	my $conf = join("\n",
		"max_connections = 100",
		"citus.max_cached_conns_per_worker = 4",
		"wal_level = logical",
		$opts{conf} // '');
	my $n = lowcode_node($name, libs => 'citus,pg_lowcode', no_extension => 1, conf => $conf);
	$n->safe_psql('postgres', 'CREATE EXTENSION citus');
	return $n;
}

sub citus_cluster
{
	my ($name, %opts) = @_;
	my $nworkers = $opts{workers} // 2;
	my @nodes = map { citus_node($_ == 0 ? "${name}_coord" : "${name}_w$_", conf => $opts{conf}) } 0 .. $nworkers;
	my ($coord, @workers) = @nodes;
	# Nodes reach each other over the Unix socket directory they share.
	$coord->safe_psql('postgres', sprintf(q{SELECT citus_set_coordinator_host('%s', %d)}, $coord->host, $coord->port));
	$coord->safe_psql('postgres', sprintf(q{SELECT citus_add_node('%s', %d)}, $_->host, $_->port)) for @workers;
	$coord->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode') unless $opts{no_extension};
	return ($coord, @workers);
}

# The request roles are NOLOGIN on the coordinator and stay so there: Citus
# connects to the workers as them, so there (and only there) they log in.
sub citus_worker_login
{
	my ($worker, @roles) = @_;
	@roles = qw(authenticated anon) unless @roles;
	$worker->safe_psql('postgres', 'SET citus.enable_ddl_propagation = off; ' . join(' ', map { "ALTER ROLE $_ LOGIN;" } @roles));
}

# citus_worker_placement($coord, \@workers, TABLE): a placement of TABLE on
# a worker, as (shard id, the worker's node): the one of the highest shard id.
sub citus_worker_placement
{
	my ($coord, $workers, $table) = @_;
	my ($shard, $port) = split /\|/, $coord->safe_psql('postgres', qq{SELECT s.shardid, p.nodeport
	  FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
	 WHERE s.logicalrelid = '$table'::regclass AND p.nodeport <> @{[ $coord->port ]} ORDER BY s.shardid DESC, p.nodeport LIMIT 1});
	my ($node) = grep { $_->port == $port } @$workers;
	return ($shard, $node);
}

# citus_shard_port($coord, TABLE, TENANT): the port of the node that holds
# the tenant's shard of TABLE.
sub citus_shard_port
{
	my ($coord, $table, $tenant) = @_;
	return $coord->safe_psql('postgres', qq{SELECT nodeport FROM pg_dist_shard_placement
	  WHERE shardid = get_shard_id_for_distribution_column('$table', '$tenant')});
}

# citus_explain_as($api, TENANT, SQL, write => 1): the plan (EXPLAIN (COSTS
# OFF)) of SQL in a PostgREST-shaped request of the tenant (a PostgrestReplay
# $api, claims mode, role authenticated; a GET, read-only, unless write), as
# one string; '' (and a diagnostic) on error.
sub citus_explain_as
{
	my ($api, $tenant, $sql, %o) = @_;
	my $r = $api->request(method => $o{write} ? 'POST' : 'GET', read_only => $o{write} ? 0 : 1,
		claims => { role => 'authenticated', tenant_id => $tenant },
		code => sub {
			my ($dbh) = @_;
			my $rows = $dbh->selectcol_arrayref("EXPLAIN (COSTS OFF) $sql") or return undef;
			return [ { plan => join("\n", @$rows) } ];
		});
	Test::More::diag(Test::More::explain($r->{error})) if $r->{error};
	return $r->{rows}[0]{plan} // '';
}

# citus_coordinator_errors($coord, TENANT, SUBJECT, INSTANCE, HEADERS): the
# error list of lowcode.validate(SUBJECT, INSTANCE) on the coordinator, in a
# request of the tenant with those request headers (a hash, lower-case names):
# what a validation on a shard must report too.
sub citus_coordinator_errors
{
	my ($coord, $tenant, $subject, $instance, $headers) = @_;
	require JSON::PP;
	my $h = JSON::PP->new->encode($headers // {});
	my $doc = JSON::PP->new->canonical->encode($instance);
	return JSON::PP->new->utf8->decode($coord->safe_psql('postgres', qq{BEGIN;
	SELECT set_config('request.jwt.claims', '{"tenant_id": "$tenant"}', true) \\g /dev/null
	SELECT set_config('request.headers', '$h', true) \\g /dev/null
	SELECT lowcode.pre_request() \\g /dev/null
	SELECT (lowcode.validate('$subject', '$doc') -> 'errors')::text;
	COMMIT;}));
}

# citus_force_rls($node, TABLE, $shard, ON): FORCE (or NO FORCE) ROW LEVEL
# SECURITY on the shard TABLE_<shard> on that node only.
sub citus_force_rls
{
	my ($node, $table, $shard, $on) = @_;
	$node->safe_psql('postgres', "SET citus.enable_ddl_propagation = off; ALTER TABLE ${table}_$shard "
		  . ($on ? '' : 'NO ') . 'FORCE ROW LEVEL SECURITY');
}

1;
