# LowcodeTest: TAP helpers for pg_lowcode.
#
# lowcode_node(NAME, %opts) returns a started PostgreSQL::Test::Cluster with
# pg_lowcode (and pg_cron) preloaded and the extension created in database
# "postgres".  Options:
#   conf => "extra postgresql.conf lines"
#   no_cron => 1        do not preload pg_cron
#   libs => "a,b"       shared_preload_libraries instead (e.g. "citus,pg_lowcode")
#   no_start => 1       return the node initialised but not started
#   no_extension => 1   do not CREATE EXTENSION
#   allows_streaming => 1 (passed to init, for standbys)
#
# Ports: when LOWCODE_TAP_PORT is set (scripts/test.sh --port N sets it to N),
# nodes take free ports from N+1 to N+39 instead of PostgreSQL::Test::Cluster's
# random pick in 10200-32767, so that checkouts testing side by side on one
# machine each keep to the range they were given.
package LowcodeTest;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;

our @EXPORT = qw(lowcode_node lowcode_port shared_testdata read_json_file leave_form new_session_sql);

sub lowcode_node
{
	my ($name, %opts) = @_;
	my $port = lowcode_port();
	my $node = PostgreSQL::Test::Cluster->new($name, defined $port ? (port => $port) : ());
	my %init;
	$init{allows_streaming} = $opts{allows_streaming} if $opts{allows_streaming};
	$node->init(%init);
	my $libs = $opts{libs} // ($opts{no_cron} ? 'pg_lowcode' : 'pg_lowcode,pg_cron');
	$node->append_conf('postgresql.conf', join("\n",
		"shared_preload_libraries = '$libs'",
		"cron.database_name = 'postgres'",
		"max_worker_processes = 32",
		$opts{conf} // '') . "\n");
	return $node if $opts{no_start};
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode') unless $opts{no_extension};
	return $node;
}

# The next free port of LOWCODE_TAP_PORT's range (see above), or undef
# without it.  Free means nothing listens on it over TCP: the nodes listen on
# Unix sockets in this test's own directory, so the check is for servers of
# other kinds started in the same range.
my $next_port;
sub lowcode_port
{
	my $base = $ENV{LOWCODE_TAP_PORT};
	return undef unless $base;
	$next_port //= $base + 1;
	while ($next_port <= $base + 39)
	{
		my $p = $next_port++;
		return $p if PostgreSQL::Test::Cluster::can_bind('127.0.0.1', $p);
	}
	die "LowcodeTest: no free port left in " . ($base + 1) . '-' . ($base + 39);
}

# The registry tests' leave-request form (as a Perl structure): required
# fields, a lowcode: reference to the global subject common.address (which the
# test registers), no other properties, and an x-rules cross-field rule.
# SQL that creates a session and returns "session_id proof" (split on the space):
# the sid and sid_proof claims that name it in the default session_proof = required.
sub new_session_sql
{
	my ($tenant, $principal) = @_;
	return "SELECT session_id || ' ' || lowcode.session_proof(token) FROM lowcode.create_session('$tenant', '$principal')";
}

sub leave_form
{
	require JSON::PP;
	return {
		type => 'object',
		properties => {
			name => { type => 'string', minLength => 1 },
			start_date => { type => 'string' },
			end_date => { type => 'string' },
			address => { '$ref' => 'lowcode:common.address' } },
		required => [ 'name', 'start_date', 'end_date' ],
		additionalProperties => JSON::PP::false(),
		'x-rules' => [ { rule => 'end_date >= start_date', message => 'the end date must not be before the start date',
			path => '/end_date' } ] };
}

# Directory of the shared conformance data (../shared/testdata), read in place.
sub shared_testdata
{
	my $shared = $ENV{LOWCODE_SHARED} // "$ENV{LOWCODE_TOP}/../shared";
	return "$shared/testdata";
}

sub read_json_file
{
	my ($path) = @_;
	require JSON::PP;
	open(my $fh, '<:raw', $path) or die "cannot open $path: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	return JSON::PP->new->utf8->allow_nonref->decode($text);
}

1;
