# Metrics (issue 20) end to end: prometheus-postgres-exporter (the Debian
# package) started on 127.0.0.1 with the project's queries file serves the
# per-tenant metrics; 100,000 tenants (and more than the table holds) give a
# bounded output whose sums stay exact; without shared_preload_libraries the
# metrics functions raise 55000 and nothing else breaks.
use strict;
use warnings;

use HTTP::Tiny;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
# scripts/install-deps.sh installs it; CI runs test.sh, which runs install-deps first
die "$exporter not found: run scripts/install-deps.sh" unless -x $exporter;
my $queries = "$ENV{LOWCODE_TOP}/monitoring/postgres_exporter_queries.yaml";

my $node = lowcode_node('metrics_exporter', no_cron => 1,
	conf => "lowcode.metrics_max_tenants = 100000\nlowcode.sweep_interval = '200ms'\n");
my $sql = sub { $node->safe_psql('postgres', $_[0]) };

my $t = $sql->("SELECT lowcode.create_tenant('exported-co')");
my $claims = "SELECT FROM set_config('request.jwt.claims', '{\"tenant_id\": \"$t\"}', false);";
$sql->($claims . 'SELECT lowcode.pre_request()') for 1 .. 3;
$node->psql('postgres', "SELECT FROM set_config('request.jwt.claims', '{}', false); SELECT lowcode.pre_request()");
$sql->(q{CREATE ROLE exporter LOGIN; GRANT pg_monitor TO exporter});

# --- the exporter, on a free local port
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = sprintf('host=%s port=%d user=exporter dbname=postgres sslmode=disable', $node->host, $node->port);
my ($out, $err) = ('', '');
my $h = IPC::Run::start(
	[ $exporter, "--web.listen-address=127.0.0.1:$port", "--extend.query-path=$queries",
	  '--disable-default-metrics', '--disable-settings-metrics' ],
	'>', \$out, '2>', \$err,
	init => sub { $ENV{DATA_SOURCE_NAME} = $dsn });
my $http = HTTP::Tiny->new(timeout => 30);

sub scrape
{
	my $res;
	for (1 .. 100)
	{
		$res = $http->get("http://127.0.0.1:$port/metrics");
		last if $res->{success};
		sleep 0.1 if $res->{status} == 599;    # not listening yet
	}
	return $res;
}

# metrics as { 'name{l1="v",l2="w"}' => value }, labels sorted by name
sub parse
{
	my ($text) = @_;
	my %m;
	for my $line (split /\n/, $text)
	{
		next if $line =~ /^#/ || $line !~ /^(\w+)(?:\{(.*)\})? (\S+)$/;
		my ($name, $labels, $v) = ($1, $2 // '', $3);
		# the exporter adds server="host:port"
		my @l = sort grep { length && !/^server=/ } split /,(?=\w+=")/, $labels;
		$m{ $name . '{' . join(',', @l) . '}' } = $v;
	}
	return \%m;
}

# the worker has swept at least once (it reports its sweeps)
$node->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM lowcode.metrics WHERE metric = 'lowcode_worker_sweeps_total' AND value > 0})
  or die 'the worker reported no sweep';

my $res = scrape();
ok($res->{success}, 'the exporter serves /metrics') or diag("$res->{status} $res->{content}\n$err");
my $m = parse($res->{content});
is($m->{"lowcode_requests_admitted_total{tenant=\"$t\"}"}, 3, 'requests admitted, per tenant');
is($m->{'lowcode_requests_refused_total{status="401",tenant="none"}'}, 1, 'refusals by status; no tenant: "none"');
is($m->{"lowcode_request_duration_seconds_bucket{le=\"+Inf\",tenant=\"$t\"}"}, 3, 'latency histogram buckets');
is($m->{"lowcode_request_duration_seconds_count{tenant=\"$t\"}"}, 3, 'latency histogram count');
ok($m->{'lowcode_worker_sweeps_total{database="postgres"}'} > 0, 'worker sweeps per database');
ok(defined $m->{'lowcode_worker_lag_seconds{database="postgres"}'}, 'worker lag per database');
unlike($err, qr/level=error/, 'the exporter logs no error') or diag($err);

# --- 100,050 tenants more: the table holds 100,000, the rest is counted as "other"
$sql->(q{SELECT count(lowcode.metrics_count(('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
                                              'requests_admitted', i))
           FROM generate_series(1, 100050) AS i});
my $expected_total = 100050 * 100051 / 2 + 3;
is($sql->(q{SELECT value FROM lowcode.metrics WHERE metric = 'lowcode_metrics_tenants'}), 100000,
	'the table is full at lowcode.metrics_max_tenants');
is($sql->(q{SELECT value FROM lowcode.metrics WHERE metric = 'lowcode_metrics_overflows_total'}), 51,
	'the tenants that found it full are counted as overflows');
my $text = $sql->('SELECT lowcode.metrics_prometheus()');
my @lines = split /\n/, $text;
cmp_ok(scalar(@lines), '<', 2000, 'metrics_prometheus(): ' . scalar(@lines) . ' lines for 100,051 tenants');
my $pm = parse($text);
my ($sum, $shown) = (0, 0);
for (grep { /^lowcode_requests_admitted_total\{/ } keys %$pm) { $sum += $pm->{$_}; $shown++; }
is($shown, 101, 'top 100 tenants and "other"');
is($sum, $expected_total, 'the sum over tenants stays exact');
is($pm->{'lowcode_requests_admitted_total{tenant="100050"}'}, undef, 'no made-up label');
my $top = $sql->(q{SELECT max(value) FROM lowcode.metrics WHERE metric = 'lowcode_requests_admitted_total' AND tenant <> 'other'});
is($top, 99999, 'the largest tenant in the table is shown (100000..100050 overflowed)');

$res = scrape();
ok($res->{success}, 'the exporter still serves /metrics');
my $size = length $res->{content};
cmp_ok($size, '<', 1_000_000, "exporter output for 100,051 tenants: $size bytes");
$m = parse($res->{content});
($sum, $shown) = (0, 0);
for (grep { /^lowcode_requests_admitted_total\{/ } keys %$m) { $sum += $m->{$_}; $shown++; }
is($shown, 101, 'exporter: top 100 tenants and "other"');
is($sum, $expected_total, 'exporter: the sum over tenants stays exact');

$h->kill_kill;
$node->stop;

# --- without shared_preload_libraries
my $plain = lowcode_node('metrics_no_preload', no_cron => 1, no_start => 1);
$plain->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode');
for my $f ('SELECT * FROM lowcode.metrics', 'SELECT lowcode.metrics_prometheus()',
	"SELECT lowcode.metrics_count('$t', 'sessions_created')", 'SELECT lowcode.metrics_reset()')
{
	my ($rc, $o, $e) = $plain->psql('postgres', "\\set VERBOSITY verbose\n$f");
	like($e, qr/ERROR:  55000: .*requires pg_lowcode in shared_preload_libraries/, "$f: 55000 without preloading");
}
my $pt = $plain->safe_psql('postgres', "SELECT lowcode.create_tenant('plain-co')");
is($plain->safe_psql('postgres', "SELECT FROM set_config('request.jwt.claims', '{\"tenant_id\": \"$pt\"}', false);"
	  . 'SELECT count(lowcode.pre_request()) FROM generate_series(1, 3)'), 3, 'pre_request() works without the metrics');
ok($plain->safe_psql('postgres', "SELECT session_id FROM lowcode.create_session('$pt', 'ada')") ne '',
	'sessions work without the metrics (the trigger does nothing)');
$plain->stop;
done_testing();
