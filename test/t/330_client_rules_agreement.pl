# The browser and the database agree on rules: every CEL conformance test a
# front end can meet (plain JSON data, no container, no type environment) and
# every official JsonLogic test is evaluated by the front-end kit's engines
# (clients/js: @marcbachmann/cel-js through evalCel, json-logic-js through
# applyJsonLogic, run under node by clients/js/dist/tools/rules-agreement.js)
# and by the database (lowcode.rule_eval, lowcode.jsonlogic_apply), on the
# data in ../shared/testdata read in place.  Both must give the same JSON
# value, or both an error.  Every case where they differ is listed, with its
# reason, in test/conformance/client_rules_known_differences.txt
# ("ID-or-glob<TAB>reason"); a difference not listed fails the test.
#
# Needs clients/js built (scripts/test.sh runs `npm ci` and the package's
# unit tests before TAP).
use strict;
use warnings;

use JSON::PP;
use Test::More;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::Bin/../lib";
use LowcodeTest;

my $top = $ENV{LOWCODE_TOP} // "$FindBin::Bin/../..";
my $tool = "$top/clients/js/dist/tools/rules-agreement.js";
plan skip_all => "clients/js is not built ($tool missing): run scripts/test.sh, which builds it"
  unless -f $tool;

my $json = JSON::PP->new->utf8->canonical->allow_nonref;

# known differences: exact ids or globs (* matches anything)
my @known;
{
	my $kf = "$top/test/conformance/client_rules_known_differences.txt";
	open(my $fh, '<', $kf) or die "cannot open $kf: $!";
	while (<$fh>)
	{
		chomp;
		next if /^\s*(#|$)/;
		my ($pat, $reason) = split /\t+/, $_, 2;
		die "known difference without a reason: $pat\n" unless defined $reason && $reason =~ /\S/;
		(my $re = quotemeta $pat) =~ s/\\\*/.*/g;
		push @known, { pat => $pat, re => qr/^$re$/, used => 0 };
	}
}

my $out = `node "$tool" "@{[shared_testdata()]}"`;
is($?, 0, 'the front-end engines ran over the conformance data');
# jsonb cannot hold U+0000: a case whose expression, data or result has it
# cannot reach the database as jsonb (the database's own CEL runner takes
# expressions as bytea for that reason), so it is left out and counted.
my @lines = grep { /\S/ } split /\n/, $out;
my @cases = map { $json->decode($_) } grep { !/\\u0000/ } @lines;
diag(sprintf("%d cases with U+0000 left out (jsonb cannot hold it)", @lines - @cases));
my $ncel = grep { $_->{suite} eq 'cel' } @cases;
my $njl = grep { $_->{suite} eq 'jsonlogic' } @cases;
cmp_ok($ncel, '>', 1000, "CEL cases evaluated in node: $ncel");
cmp_ok($njl, '>', 250, "JsonLogic cases evaluated in node: $njl");

my $node = lowcode_node('agree', no_cron => 1);
$node->safe_psql('postgres', q{
CREATE FUNCTION agree_cel(e text, d jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN jsonb_build_object('value', lowcode.rule_eval(e, d));
EXCEPTION WHEN others THEN
  RETURN jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM);
END $$;
CREATE FUNCTION agree_jl(r jsonb, d jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RETURN jsonb_build_object('value', lowcode.jsonlogic_apply(r, d));
EXCEPTION WHEN others THEN
  RETURN jsonb_build_object('error', SQLSTATE || ': ' || SQLERRM);
END $$;
CREATE TABLE cases (n int PRIMARY KEY, c jsonb);});

# Load the cases through COPY-free SQL: one INSERT of a jsonb array.
my $arr = $json->encode([ map { { n => $_, c => $cases[$_] } } 0 .. $#cases ]);
$arr =~ s/'/''/g;
$node->safe_psql('postgres',
	"INSERT INTO cases SELECT (x->>'n')::int, x->'c' FROM jsonb_array_elements('$arr'::jsonb) x");
my $db = $node->safe_psql('postgres', q{
SELECT n, CASE c->>'suite'
            WHEN 'cel' THEN agree_cel(c->>'expr', c->'data')
            ELSE agree_jl(c->'rule', c->'data') END
  FROM cases ORDER BY n});

# Same JSON value: numbers compared as numbers, everything else exactly.
sub same
{
	my ($a, $b) = @_;
	return 1 if !defined $a && !defined $b;
	return 0 if !defined $a || !defined $b;
	if (ref $a eq 'ARRAY' && ref $b eq 'ARRAY')
	{
		return 0 unless @$a == @$b;
		same($a->[$_], $b->[$_]) || return 0 for 0 .. $#$a;
		return 1;
	}
	if (ref $a eq 'HASH' && ref $b eq 'HASH')
	{
		return 0 unless join("\0", sort keys %$a) eq join("\0", sort keys %$b);
		same($a->{$_}, $b->{$_}) || return 0 for keys %$a;
		return 1;
	}
	if (JSON::PP::is_bool($a) || JSON::PP::is_bool($b))
	{
		return JSON::PP::is_bool($a) && JSON::PP::is_bool($b) && (!!$a == !!$b);
	}
	return 0 if ref $a || ref $b;
	# a JSON number encodes without quotes: compare those numerically
	my ($ea, $eb) = ($json->encode($a), $json->encode($b));
	return $a == $b if $ea !~ /^"/ && $eb !~ /^"/;
	return $ea eq $eb;
}

my (%agree, @new);
for my $line (split /\n/, $db)
{
	my ($n, $res) = split /\|/, $line, 2;
	my $c = $cases[$n];
	my $dbr = $json->decode($res);
	my $jsr = $c->{result};
	my $ok = (exists $dbr->{error} && exists $jsr->{error})
	  || (exists $dbr->{value} && exists $jsr->{value} && same($dbr->{value}, $jsr->{value}));
	$agree{ $c->{suite} }{ $ok ? 'same' : 'differ' }++;
	next if $ok;
	my ($k) = grep { $c->{id} =~ $_->{re} } @known;
	if ($k) { $k->{used}++; next; }
	push @new, sprintf("%s\n    %s\n    data: %s\n    browser: %s\n    database: %s",
		$c->{id}, $c->{suite} eq 'cel' ? $c->{expr} : $json->encode($c->{rule}),
		$json->encode($c->{data}), $json->encode($jsr), $json->encode($dbr));
}
for my $s (qw(cel jsonlogic))
{
	my $same = $agree{$s}{same} // 0;
	my $differ = $agree{$s}{differ} // 0;
	diag(sprintf("%-9s browser and database agree on %d of %d cases (%.1f%%)",
		$s, $same, $same + $differ, 100 * $same / (($same + $differ) || 1)));
}
diag("known difference no longer seen (remove it): $_->{pat}") for grep { !$_->{used} } @known;
if (@new)
{
	my $f = "$PostgreSQL::Test::Utils::tmp_check/client_rules_differences.txt";
	open(my $fh, '>', $f) or die "cannot write $f: $!";
	print $fh "$_\n" for @new;
	close $fh;
	diag("all new differences: $f");
}
is(scalar(@new), 0, 'no difference between browser and database beyond the known ones')
  or diag("new differences:\n" . join("\n", @new[0 .. ($#new < 60 ? $#new : 59)]));

done_testing();
