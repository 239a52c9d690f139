#!/usr/bin/perl
# Event delivery delay (issue 21): one client submits N forms of tenant 17 at about R per second;
# a listener on the tenant's event channel records when each notification arrives.  The k-th
# notification belongs to the k-th submission (one serial submitter, its own tenant), so
# delay = arrival of notification k - the moment COMMIT of submission k returned.
# Usage: event_delay.pl SOCKET_DIR PORT N RATE     (called by bench/submit_scaling.sh)
use strict;
use warnings;
use DBI;
use IO::Select;
use Time::HiRes qw(time sleep);

my ($host, $port, $n, $rate) = @ARGV;
my $tenant = '00000000-0000-0000-0000-000000000017';
my $dsn = "dbi:Pg:dbname=postgres;host=$host;port=$port";
my $claims = qq({"role":"authenticated","tenant_id":"$tenant"});
my $body = '{"start_date": "2026-05-02", "end_date": "2026-05-04", "reason": "holiday", "days": 3}';

sub connect_tenant {
	my $dbh = DBI->connect($dsn, 'postgres', '', { AutoCommit => 1, RaiseError => 1, PrintError => 0 });
	return $dbh;
}
sub in_request {
	my ($dbh, $sql, @bind) = @_;
	$dbh->begin_work;
	$dbh->selectrow_array("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ?, true)",
		undef, $claims);
	$dbh->selectrow_array('select lowcode.pre_request()');
	my @r = $dbh->selectrow_array($sql, undef, @bind);
	$dbh->commit;
	return @r;
}

my $l = connect_tenant();
my $has_channel = $l->selectrow_array(
	"select count(*) from pg_proc where proname = 'event_channel' and pronamespace = 'lowcode'::regnamespace");
my $channel = $has_channel ? (in_request($l, 'select lowcode.event_channel()'))[0] : 'lowcode_events';
$l->do(qq(LISTEN "$channel"));

pipe(my $rd, my $wr) or die;
my $pid = fork // die;
if ($pid == 0) {
	close $rd;
	my $sel = IO::Select->new($l->{pg_socket});
	my $got = 0;
	my $last = time;
	while ($got < $n && time - $last < 10) {
		$sel->can_read(0.5);
		while (my $note = $l->pg_notifies) {
			my $t = time;
			next if $note->[2] !~ /\Q$tenant\E/ && !$has_channel;
			print $wr "$t\n";
			$got++;
			$last = $t;
		}
	}
	close $wr;
	exit 0;
}
close $wr;
my $s = connect_tenant();
my @commit;
my $t0 = time;
for my $k (1 .. $n) {
	my $due = $t0 + $k / $rate;
	my $now = time;
	sleep($due - $now) if $due > $now;
	in_request($s, 'select lowcode.submit(?, ?::jsonb)', 'leave', $body);
	push @commit, time;
}
my @arrive = map { chomp; $_ } <$rd>;
waitpid($pid, 0);
my @d;
for my $k (0 .. $#commit) {
	last if $k > $#arrive;
	push @d, ($arrive[$k] - $commit[$k]) * 1000;
}
my @s = sort { $a <=> $b } @d;
printf "  channel %s; %d submissions, %d notifications received\n", $has_channel ? 'per tenant' : 'lowcode_events',
	scalar @commit, scalar @arrive;
printf "  delay from COMMIT returned to notification: p50 %.1f ms, p99 %.1f ms, max %.1f ms%s\n",
	$s[int(@s * 0.5)], $s[int(@s * 0.99)], $s[-1], (@arrive < @commit ? "  (SOME EVENTS NOT DELIVERED)" : '') if @s;
