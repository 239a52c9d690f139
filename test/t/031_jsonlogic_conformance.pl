# JsonLogic conformance: runs every case of the official JsonLogic test file
# (../shared/testdata/jsonlogic/tests.json, read in place) through
# lowcode.jsonlogic_apply in a single SQL round trip, reports each case, and
# fails on any failure not listed in test/conformance/jsonlogic_known_failures.txt.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $file = shared_testdata() . '/jsonlogic/tests.json';
open(my $fh, '<:raw', $file) or die "cannot open $file: $!";
my $text = do { local $/; <$fh> };
close $fh;

# Known failures: "<case number> <reason>".
my %known;
my $known_file = "$ENV{LOWCODE_TOP}/test/conformance/jsonlogic_known_failures.txt";
if (open(my $kf, '<', $known_file))
{
	while (my $line = <$kf>)
	{
		next if $line =~ /^\s*(#|$)/;
		my ($n, $reason) = $line =~ /^\s*(\d+)\s+(.*\S)/
		  or die "bad line in $known_file: $line";
		$known{$n} = $reason;
	}
	close $kf;
}

my $node = lowcode_node('jsonlogic', no_cron => 1);

# Each case runs in its own subtransaction so that an error fails only that
# case; the whole file goes to the server as one literal.
my $tag = 'jsonlogic_cases';
die "test file contains the quoting tag" if index($text, "\$$tag\$") >= 0;
my $sql = <<"SQL";
CREATE FUNCTION pg_temp.run_cases(cases jsonb)
RETURNS TABLE(n int, ok boolean, rule text, got text, err text)
LANGUAGE plpgsql AS \$fn\$
DECLARE
  c jsonb;
  result jsonb;
BEGIN
  n := 0;
  FOR c IN SELECT e FROM jsonb_array_elements(cases) AS e WHERE jsonb_typeof(e) = 'array' LOOP
    n := n + 1;
    rule := (c->0)::text;
    got := NULL;
    err := NULL;
    BEGIN
      result := lowcode.jsonlogic_apply(c->0, c->1);
      got := result::text;
      ok := result IS NOT DISTINCT FROM (c->2);
      IF NOT ok THEN
        err := 'expected ' || (c->2)::text;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      ok := false;
      err := SQLSTATE || ': ' || SQLERRM;
    END;
    RETURN NEXT;
  END LOOP;
END
\$fn\$;
SELECT n, ok, replace(rule, E'\\t', ' '), coalesce(got, ''), coalesce(err, '')
  FROM pg_temp.run_cases(\$$tag\$$text\$$tag\$::jsonb) ORDER BY n;
SQL

my $out = $node->safe_psql('postgres', $sql);
my @rows = split /\n/, $out;
my ($pass, $fail, $known_fail) = (0, 0, 0);
for my $row (@rows)
{
	my ($n, $ok, $rule, $got, $err) = split /\|/, $row, 5;
	my $name = "case $n: " . (length($rule) > 100 ? substr($rule, 0, 100) . '...' : $rule);
	if ($ok eq 't')
	{
		$pass++;
		pass($name);
		diag("case $n is listed as a known failure but passes") if exists $known{$n};
	}
	elsif (exists $known{$n})
	{
		$known_fail++;
		pass("$name (known failure: $known{$n})");
	}
	else
	{
		$fail++;
		fail($name);
		diag("case $n: got $got; $err");
	}
}
is(scalar(@rows), 278, 'all 278 cases of tests.json ran');
note("JsonLogic conformance: $pass passed, $fail failed, $known_fail known failures, of " . scalar(@rows));
diag("JsonLogic conformance: $pass/" . scalar(@rows) . " passed");

$node->stop;
done_testing();
