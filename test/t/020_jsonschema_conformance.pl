# JSON Schema conformance: the official JSON-Schema-Test-Suite, read in place
# from ../shared/testdata/json-schema-test-suite.
#
# - remotes/ are registered in the document store under http://localhost:1234/
# - every required test of drafts 4, 6, 7, 2019-09 and 2020-12 is run, each
#   with output "flag" and "basic" (both must give the expected validity)
# - optional/format/ of the formats the issue lists, with format assertion on
# - output-tests/: the basic output must satisfy each test's output schema
#
# A whole test file is evaluated in one SQL round trip.  Pass/fail counts are
# printed per draft and file; the test fails on any failure that is not in
# test/conformance/jsonschema_known_failures.txt (with a reason each), and
# on any listed entry that now passes (so the list stays true).
use strict;
use warnings;

use File::Find;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;

my $suite = shared_testdata() . '/json-schema-test-suite';
plan skip_all => "JSON Schema test suite not found at $suite" unless -d "$suite/tests";

my $json = JSON::PP->new->utf8->canonical->allow_nonref->allow_bignum;
my $top = $ENV{LOWCODE_TOP} // '.';
my $known_file = "$top/test/conformance/jsonschema_known_failures.txt";

# known failures: "<draft>/<file> | <group description> | <test description> | <reason>"
my %known;
open(my $kfh, '<:encoding(UTF-8)', $known_file) or die "cannot open $known_file: $!";
while (my $line = <$kfh>)
{
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my @f = split /\s*\|\s*/, $line, 4;
	die "malformed known-failure line (need 4 fields, the last a reason): $line"
	  unless @f == 4 && $f[3] ne '';
	$known{"$f[0] | $f[1] | $f[2]"} = $f[3];
}
close $kfh;

my $node = lowcode_node('jsonschema_conformance', no_cron => 1);

sub dq
{
	my ($text) = @_;
	die "document contains the quoting tag" if $text =~ /\$JSDOC\$/;
	return '$JSDOC$' . $text . '$JSDOC$';
}

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "cannot open $path: $!";
	local $/;
	my $t = <$fh>;
	close $fh;
	return $t;
}

# ---- remotes into the store ----
my @remotes;
find(sub { push @remotes, $File::Find::name if -f $_ && /\.json$/ }, "$suite/remotes");
my $load = '';
for my $path (sort @remotes)
{
	(my $rel = $path) =~ s{^\Q$suite\E/remotes/}{};
	my $text = slurp($path);
	$load .= "SELECT lowcode.register_document('http://localhost:1234/$rel', " . dq($text) . "::jsonb);\n";
}
for my $d ('draft2019-09', 'draft2020-12')
{
	my $p = "$suite/output-tests/$d/output-schema.json";
	next unless -f $p;
	my $text = slurp($p);
	my $id = $json->decode($text)->{'$id'};
	$load .= "SELECT lowcode.register_document('$id', " . dq($text) . "::jsonb);\n";
}
$node->safe_psql('postgres', $load);
pass('remotes registered: ' . scalar(@remotes));

$node->safe_psql('postgres', q{
CREATE FUNCTION public.js_conformance(doc jsonb, opts jsonb)
RETURNS TABLE (gi int, ti int, ok boolean, err text) LANGUAGE plpgsql AS $$
DECLARE
    g jsonb; t jsonb; i int := 0; j int; r1 jsonb; r2 jsonb;
BEGIN
    FOR g IN SELECT value FROM jsonb_array_elements(doc) LOOP
        j := 0;
        FOR t IN SELECT value FROM jsonb_array_elements(g->'tests') LOOP
            gi := i; ti := j; err := NULL;
            BEGIN
                r1 := lowcode.jsonschema_validate(g->'schema', t->'data', opts || '{"output": "flag"}');
                r2 := lowcode.jsonschema_validate(g->'schema', t->'data', opts || '{"output": "basic"}');
                ok := (r1->>'valid')::boolean = (t->>'valid')::boolean
                      AND (r2->>'valid')::boolean = (t->>'valid')::boolean;
                IF NOT ok AND (r1->>'valid') <> (r2->>'valid') THEN
                    err := 'flag and basic outputs disagree';
                END IF;
            EXCEPTION WHEN OTHERS THEN
                ok := false; err := SQLSTATE || ': ' || SQLERRM;
            END;
            RETURN NEXT;
            j := j + 1;
        END LOOP;
        i := i + 1;
    END LOOP;
END $$;

CREATE FUNCTION public.js_output_conformance(doc jsonb)
RETURNS TABLE (gi int, ti int, ok boolean, err text) LANGUAGE plpgsql AS $$
DECLARE
    g jsonb; t jsonb; i int := 0; j int; fmt text; r jsonb; good boolean;
BEGIN
    FOR g IN SELECT value FROM jsonb_array_elements(doc) LOOP
        j := 0;
        FOR t IN SELECT value FROM jsonb_array_elements(g->'tests') LOOP
            gi := i; ti := j; err := NULL; ok := true;
            BEGIN
                FOR fmt IN SELECT jsonb_object_keys(t->'output') LOOP
                    IF fmt IN ('flag', 'basic') THEN
                        r := lowcode.jsonschema_validate(g->'schema', t->'data',
                                                          jsonb_build_object('output', fmt));
                        good := lowcode.jsonschema_is_valid(t->'output'->fmt, r);
                        IF NOT good THEN
                            ok := false; err := fmt || ' output does not match: ' || r::text;
                        END IF;
                    END IF;
                END LOOP;
            EXCEPTION WHEN OTHERS THEN
                ok := false; err := SQLSTATE || ': ' || SQLERRM;
            END;
            RETURN NEXT;
            j := j + 1;
        END LOOP;
        i := i + 1;
    END LOOP;
END $$;
});

my @formats = qw(date-time date time duration email idn-email hostname
  idn-hostname ipv4 ipv6 uri uri-reference iri iri-reference uri-template
  uuid regex json-pointer relative-json-pointer);

my %draft_option = (
	'draft4' => '4', 'draft6' => '6', 'draft7' => '7',
	'draft2019-09' => '2019-09', 'draft2020-12' => '2020-12');

my (@unexpected, %seen_known);
my ($total_pass, $total_fail) = (0, 0);

sub run_file
{
	my ($draft, $label, $path, $opts, $output_tests) = @_;
	my $groups = $json->decode(slurp($path));

	# jsonb cannot hold \u0000: such cases are sent nowhere and count as
	# failures (listed as known, with that reason)
	my (@send, @map, @unrepresentable);
	for my $gi (0 .. $#$groups)
	{
		my $g = $groups->[$gi];
		if ($json->encode($g->{schema}) =~ /\\u0000/)
		{
			push @unrepresentable, [ $gi, $_ ] for 0 .. $#{ $g->{tests} };
			next;
		}
		my @tests;
		for my $ti (0 .. $#{ $g->{tests} })
		{
			my $t = $g->{tests}[$ti];
			if ($json->encode($t->{data}) =~ /\\u0000/)
			{
				push @unrepresentable, [ $gi, $ti ];
				next;
			}
			push @tests, $t;
			push @map, [ scalar(@send), $#tests, $gi, $ti ];
		}
		push @send, { %$g, tests => \@tests };
	}
	my %where = map { ("$_->[0]/$_->[1]" => [ $_->[2], $_->[3] ]) } @map;
	my $text = $json->encode(\@send);
	my $sql = $output_tests
	  ? "SELECT gi, ti, ok, coalesce(err, '') FROM public.js_output_conformance(" . dq($text) . "::jsonb)"
	  : "SELECT gi, ti, ok, coalesce(err, '') FROM public.js_conformance(" . dq($text) . "::jsonb, '$opts'::jsonb)";
	my $out = $node->safe_psql('postgres', $sql);
	my @rows;
	for my $row (split /\n/, $out)
	{
		my ($gi, $ti, $ok, $err) = split /\|/, $row, 4;
		my $w = $where{"$gi/$ti"};
		push @rows, [ $w->[0], $w->[1], $ok, $err ];
	}
	push @rows, [ $_->[0], $_->[1], 'f', 'jsonb cannot represent \\u0000' ] for @unrepresentable;
	my ($pass, $fail) = (0, 0);
	for my $r (@rows)
	{
		my ($gi, $ti, $ok, $err) = @$r;
		my $g = $groups->[$gi];
		my $t = $g->{tests}[$ti];
		my $key = "$draft/$label | $g->{description} | $t->{description}";
		if ($ok eq 't')
		{
			$pass++;
			if (exists $known{$key})
			{
				push @unexpected, "listed as known failure but passes: $key";
			}
		}
		else
		{
			$fail++;
			if (exists $known{$key}) { $seen_known{$key} = 1; }
			else
			{
				push @unexpected, "$key" . ($err ne '' ? "  [$err]" : '');
			}
		}
	}
	$total_pass += $pass;
	$total_fail += $fail;
	return ($pass, $fail);
}

for my $draft (sort keys %draft_option)
{
	my $opt = qq({"draft": "$draft_option{$draft}"});
	my ($dp, $df) = (0, 0);
	opendir(my $dh, "$suite/tests/$draft") or die;
	for my $f (sort grep { /\.json$/ } readdir $dh)
	{
		my ($p, $fl) = run_file($draft, $f, "$suite/tests/$draft/$f", $opt, 0);
		note sprintf("%-14s %-40s pass %4d fail %3d", $draft, $f, $p, $fl);
		$dp += $p; $df += $fl;
	}
	closedir $dh;
	my ($fp, $ff) = (0, 0);
	for my $fmt (@formats)
	{
		my $path = "$suite/tests/$draft/optional/format/$fmt.json";
		next unless -f $path;
		my $fopt = qq({"draft": "$draft_option{$draft}", "format": "assert"});
		my ($p, $fl) = run_file($draft, "optional/format/$fmt.json", $path, $fopt, 0);
		note sprintf("%-14s %-40s pass %4d fail %3d", $draft, "optional/format/$fmt.json", $p, $fl);
		$fp += $p; $ff += $fl;
	}
	diag sprintf("%-14s required: %5d passed, %3d failed; formats: %4d passed, %3d failed",
		$draft, $dp, $df, $fp, $ff);

	# the other optional tests: reported for information, never failing
	my ($xp, $xf) = (0, 0);
	if (opendir(my $xh, "$suite/tests/$draft/optional"))
	{
		for my $f (sort grep { /\.json$/ } readdir $xh)
		{
			my @before = @unexpected;
			my ($tp, $tf) = ($total_pass, $total_fail);
			my ($p, $fl) = run_file($draft, "optional/$f", "$suite/tests/$draft/optional/$f", $opt, 0);
			note "information only: $_" for @unexpected[ scalar(@before) .. $#unexpected ];
			@unexpected = @before;
			($total_pass, $total_fail) = ($tp, $tf);
			note sprintf("%-14s %-40s pass %4d fail %3d (optional, information only)", $draft, "optional/$f", $p, $fl);
			$xp += $p; $xf += $fl;
		}
		closedir $xh;
	}
	diag sprintf("%-14s other optional tests (information only): %4d passed, %3d failed", $draft, $xp, $xf);
	if (-d "$suite/output-tests/$draft/content")
	{
		my ($op, $of) = (0, 0);
		opendir(my $oh, "$suite/output-tests/$draft/content") or die;
		for my $f (sort grep { /\.json$/ } readdir $oh)
		{
			my ($p, $fl) = run_file($draft, "output/$f", "$suite/output-tests/$draft/content/$f", '', 1);
			note sprintf("%-14s %-40s pass %4d fail %3d", $draft, "output/$f", $p, $fl);
			$op += $p; $of += $fl;
		}
		closedir $oh;
		diag sprintf("%-14s output tests: %4d passed, %3d failed", $draft, $op, $of);
	}
}

diag "total: $total_pass passed, $total_fail failed (" . scalar(keys %seen_known) . " known failures)";
for my $k (sort keys %known)
{
	push @unexpected, "known failure not met (test renamed or removed?): $k"
	  unless $seen_known{$k};
}
diag "unexpected: $_" for @unexpected;
is(scalar(@unexpected), 0, 'no conformance failure outside the known-failure list');

$node->stop;
done_testing();
