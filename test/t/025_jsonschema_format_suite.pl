# Conformance of the JSON Schema format checkers and of the ECMA-262 regex
# translation against the JSON Schema Test Suite, read in place from
# ../shared/testdata/json-schema-test-suite:
#
# - every string case of tests/<draft>/optional/format/<format>.json for the
#   formats js_format.c checks, through lowcode.format_check() (non-strings
#   are valid for every format, nothing to run);
# - every string case of the "pattern" groups of tests/<draft>/optional/
#   {ecmascript-regex,non-bmp-regex}.json, through
#   lowcode.regex_test('ecma262', ...).
#
# A case that fails is a test failure unless test/conformance/
# format_known_failures.txt lists it with a reason; a listed case that
# passes is a failure too, so the list stays true.  Results per draft and
# file are printed.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use JSON::PP;

my @formats = qw(date-time date time duration email idn-email hostname
  idn-hostname ipv4 ipv6 uri uri-reference iri iri-reference uri-template
  uuid regex json-pointer relative-json-pointer);
my %checked = map { $_ => 1 } @formats;

my $suite = shared_testdata() . '/json-schema-test-suite/tests';
my @drafts = qw(draft4 draft6 draft7 draft2019-09 draft2020-12);
my $json = JSON::PP->new->utf8->canonical->allow_nonref;

# Known failures: "<kind>\t<data as JSON>\t<reason>", kind being a format
# name or "pattern=<pattern as JSON>".
my $top = $ENV{LOWCODE_TOP} // '.';
my %known;
open(my $kf, '<:raw', "$top/test/conformance/format_known_failures.txt")
  or die "cannot open the known-failure list: $!";
while (my $line = <$kf>)
{
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my ($kind, $data, $reason) = split /\t/, $line, 3;
	die "known failure without a reason: $line" unless defined $reason && $reason =~ /\S/;
	$known{"$kind\t$data"} = $reason;
}
close $kf;

my $node = lowcode_node('formats', no_cron => 1);

sub sql_literal
{
	my ($s) = @_;
	$s =~ s/'/''/g;
	return "'$s'";
}

# Run a batch of SQL boolean expressions in one query; returns 1/0 per case,
# undef for a case that cannot be sent (PostgreSQL text cannot hold U+0000).
sub run_batch
{
	my (@exprs) = @_;
	my @sendable = grep { defined $exprs[$_] } 0 .. $#exprs;
	my @out = (undef) x @exprs;
	return @out unless @sendable;
	my $sql = 'SELECT ' . join(', ', map { "($exprs[$_])::int" } @sendable);
	utf8::encode($sql);
	my $res = $node->safe_psql('postgres', $sql, extra_params => [ '-A', '-F', ',' ]);
	my @vals = split /,/, $res;
	die "expected " . scalar(@sendable) . " results, got " . scalar(@vals) unless @vals == @sendable;
	$out[ $sendable[$_] ] = $vals[$_] for 0 .. $#sendable;
	return @out;
}

my %seen_known;
my ($total, $passed, $known_failed) = (0, 0, 0);

sub judge
{
	my ($where, $kind, $case, $got) = @_;
	my $key = "$kind\t" . $json->encode($case->{data});
	my $ok = defined $got && (($got == 1) == ($case->{valid} ? 1 : 0));
	$total++;
	if (exists $known{$key})
	{
		$seen_known{$key} = 1;
		ok(!$ok, "$where: listed known failure still fails: $case->{description}")
		  or diag("remove it from format_known_failures.txt: $key");
		$known_failed++ unless $ok;
		return $ok;
	}
	ok($ok, "$where: $case->{description}")
	  or diag("$kind " . $json->encode($case->{data}) . ' expected '
		  . ($case->{valid} ? 'valid' : 'invalid') . ', got ' . ($got // 'no result'));
	$passed++ if $ok;
	return $ok;
}

for my $draft (@drafts)
{
	# format files
	for my $file (sort glob("$suite/$draft/optional/format/*.json"))
	{
		my ($name) = $file =~ m{/([^/]+)\.json$};
		my @cases;
		for my $group (@{ read_json_file($file) })
		{
			my $format = $group->{schema}{format};
			next unless defined $format && !ref $format && $checked{$format};
			for my $t (@{ $group->{tests} })
			{
				next if ref $t->{data} || !defined $t->{data};
				# JSON numbers and booleans decode to non-refs as well
				next unless JSON::PP->new->allow_nonref->encode($t->{data}) =~ /^"/;
				push @cases, [ $format, $t ];
			}
		}
		next unless @cases;
		my @exprs = map {
			$_->[1]{data} =~ /\x00/ ? undef
			  : 'lowcode.format_check(' . sql_literal($_->[0]) . ', ' . sql_literal($_->[1]{data}) . ')'
		} @cases;
		my @got = run_batch(@exprs);
		my $good = 0;
		$good += judge("$draft/format/$name", $cases[$_][0], $cases[$_][1], $got[$_]) ? 1 : 0 for 0 .. $#cases;
		note(sprintf("%-14s format/%-24s %3d/%3d", $draft, $name, $good, scalar @cases));
	}

	# pattern groups of the ECMA-262 regex files
	for my $file (map { "$suite/$draft/optional/$_" } qw(ecmascript-regex.json non-bmp-regex.json))
	{
		next unless -f $file;
		my ($name) = $file =~ m{/([^/]+)\.json$};
		my @cases;
		for my $group (@{ read_json_file($file) })
		{
			my $pattern = $group->{schema}{pattern};
			next unless defined $pattern;
			for my $t (@{ $group->{tests} })
			{
				next if ref $t->{data} || !defined $t->{data};
				next unless JSON::PP->new->allow_nonref->encode($t->{data}) =~ /^"/;
				push @cases, [ $pattern, $t ];
			}
		}
		next unless @cases;
		my @exprs = map {
			($_->[1]{data} =~ /\x00/ || $_->[0] =~ /\x00/) ? undef
			  : "lowcode.regex_test('ecma262', " . sql_literal($_->[0]) . ', ' . sql_literal($_->[1]{data}) . ')'
		} @cases;
		my @got = run_batch(@exprs);
		my $good = 0;
		$good += judge("$draft/$name", 'pattern=' . $json->encode($cases[$_][0]), $cases[$_][1], $got[$_]) ? 1 : 0
		  for 0 .. $#cases;
		note(sprintf("%-14s %-31s %3d/%3d", $draft, $name, $good, scalar @cases));
	}
}

for my $key (sort keys %known)
{
	ok($seen_known{$key}, "known failure entry matches a case of the suite")
	  or diag("stale entry in format_known_failures.txt: $key");
}

note("format and pattern cases: $total, passed $passed, known failures $known_failed");
cmp_ok($total, '>', 1000, 'the suite was found and read');

$node->stop;
done_testing();
