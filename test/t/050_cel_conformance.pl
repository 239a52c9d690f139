# CEL conformance: runs the cel-spec "simple" tests (../shared/testdata/cel-spec/*.json,
# read in place) through lowcode.cel_conformance_eval, one SQL round trip per file.
#
# Tests that need protobuf messages are out of scope and skipped by rule (the
# reason is printed).  Every other failure must be listed, with its reason, in
# test/conformance/cel_known_failures.txt ("file/section/test<TAB>reason");
# any failure not listed fails the run.  The pass rate of every file is printed.
#
# Development shortcut: CEL_DEV_PSQL="psql -h /tmp/x -p 55430 -U postgres" runs
# against an existing server instead of a temporary one.
use strict;
use warnings;

use JSON::PP;
use MIME::Base64;
use Encode ();
use Test::More;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use FindBin;
use lib "$FindBin::Bin/../lib";

my $top = "$FindBin::Bin/../..";
my $shared = $ENV{LOWCODE_SHARED} // "$top/../shared";
my $dir = "$shared/testdata/cel-spec";
my @files = qw(basic comparisons conversions fields fp_math integer_math lists logic
  macros macros2 namespace parse plumbing string timestamps string_ext math_ext optionals);
my %goal = map { $_ => 100 } qw(basic comparisons conversions fields fp_math integer_math lists
  logic macros macros2 parse plumbing string timestamps);
$goal{$_} = 95 for qw(string_ext math_ext optionals);

my $json = JSON::PP->new->utf8->canonical;

# known failures
my %known;
{
	my $kf = "$top/test/conformance/cel_known_failures.txt";
	if (open(my $fh, '<', $kf))
	{
		while (<$fh>)
		{
			chomp;
			next if /^\s*(#|$)/;
			my ($id, $reason) = split /\t+/, $_, 2;
			die "known failure without a reason: $id\n" unless defined $reason && $reason =~ /\S/;
			$known{$id} = $reason;
		}
	}
}

my $query;
if ($ENV{CEL_DEV_PSQL})
{
	$query = sub {
		my ($sql) = @_;
		my $tmp = "/tmp/cel_conformance_$$.sql";
		open(my $fh, '>', $tmp) or die;
		print $fh $sql;
		close $fh;
		my $out = `$ENV{CEL_DEV_PSQL} -X -A -t -q -v ON_ERROR_STOP=1 -f $tmp`;
		unlink $tmp;
		die "psql failed" if $?;
		return $out;
	};
}
else
{
	# the rules need no preloading; the port is fixed within the CEL range
	my $node = PostgreSQL::Test::Cluster->new('cel_conformance', port => ($ENV{CEL_TEST_PORT} // 55431));
	$node->init;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_lowcode');
	$query = sub { return $node->safe_psql('postgres', $_[0]); };
}

# Why a test is out of scope (protobuf messages), or undef.
sub protobuf_reason
{
	my ($t) = @_;
	my $all = $json->encode($t);
	return 'needs protobuf messages (object_value)' if $all =~ /"object_value"/;
	return 'needs protobuf message types (TestAllTypes)' if $t->{expr} =~ /TestAllTypes/;
	return 'needs protobuf well-known message types'
	  if $t->{expr} =~ /google\.protobuf\.(?!Timestamp\b|Duration\b)\w+/;
	return 'needs a protobuf container' if ($t->{container} // '') =~ /proto/;
	return 'needs protobuf message types in the type environment' if $all =~ /"message_type"/;
	return undef;
}

sub canon
{
	my ($v) = @_;
	return 'undef' unless defined $v;
	my ($k) = keys %$v;
	my $x = $v->{$k};
	if ($k eq 'int64_value' || $k eq 'uint64_value') { return "$k:" . (0 + 0 == 0 ? "$x" : $x); }
	if ($k eq 'double_value')
	{
		return "double:NaN" if !ref($x) && $x =~ /^nan$/i;
		return "double:$x" if $x =~ /inf/i;
		my $d = 0 + $x;
		return "double:" . ($d != $d ? 'NaN' : sprintf('%.17g', $d));
	}
	if ($k eq 'bool_value') { return "bool:" . ($x ? 'true' : 'false'); }
	if ($k eq 'null_value') { return "null"; }
	if ($k eq 'string_value_base64') { return "string_value:" . Encode::decode('UTF-8', decode_base64($x)); }
	if ($k eq 'string_value' || $k eq 'bytes_value' || $k eq 'type_value') { return "$k:$x"; }
	if ($k eq 'list_value') { return "[" . join(',', map { canon($_) } @{ $x->{values} // [] }) . "]"; }
	if ($k eq 'map_value')
	{
		return "{" . join(',', sort map { canon($_->{key}) . '=>' . canon($_->{value}) } @{ $x->{entries} // [] }) . "}";
	}
	return "$k:" . $json->encode($x);
}

my ($total_run, $total_pass, $total_skip) = (0, 0, 0);
my %seen_known;
for my $file (@files)
{
	my $path = "$dir/$file.json";
	open(my $fh, '<:raw', $path) or die "cannot open $path: $!";
	my $data = $json->decode(do { local $/; <$fh> });
	close $fh;
	my (@cases, %tests);
	for my $sec (@{ $data->{section} })
	{
		for my $t (@{ $sec->{test} })
		{
			my $id = "$file/$sec->{name}/$t->{name}";
			# a few names repeat within a section: number the repeats
			my $k = 2;
			$k++ while exists $tests{"$id#$k"} || ($k == 2 && !exists $tests{$id} ? 0 : exists $tests{"$id#$k"});
			$id = "$id#$k" if exists $tests{$id};
			if (my $why = protobuf_reason($t))
			{
				note("skip $id: $why");
				$total_skip++;
				next;
			}
			$tests{$id} = $t;
			my %b;
			$b{$_} = $t->{bindings}{$_} for keys %{ $t->{bindings} // {} };
			# base64 of the UTF-8 text: some expressions contain NUL bytes
			push @cases, { id => $id, expr => encode_base64(Encode::encode('UTF-8', $t->{expr}), ''),
				bindings => (%b ? \%b : undef), container => $t->{container} };
		}
	}
	my $cases_json = $json->encode(\@cases);
	$cases_json =~ s/\$cel\$/\$ cel\$/g;
	my $out = $query->("SELECT c->>'id' || E'\\t' || lowcode.cel_conformance_eval(decode(c->>'expr', 'base64'), c->'bindings', c->>'container')::text "
		  . "FROM jsonb_array_elements(\$cel\$$cases_json\$cel\$::jsonb) c;");
	my ($pass, $run, $artifacts, @unexpected) = (0, 0, 0);
	for my $line (split /\n/, $out)
	{
		my ($id, $res) = split /\t/, $line, 2;
		my $t = $tests{$id};
		my $r = $json->decode($res);
		my ($ok, $detail);
		if (exists $t->{eval_error})
		{
			$ok = exists $r->{error} || exists $r->{parse_error};
			$detail = "expected an error, got " . $res;
		}
		else
		{
			# a test without an expected value expects true
			my $exp = canon($t->{value} // { bool_value => JSON::PP::true });
			my $got = exists $r->{value} ? canon($r->{value}) : $res;
			$ok = $exp eq $got;
			$detail = "expected $exp, got $got";
		}
		$run++;
		if ($ok)
		{
			$pass++;
			diag("$id passes now: remove it from cel_known_failures.txt") if $known{$id};
			next;
		}
		if ($known{$id})
		{
			$seen_known{$id} = 1;
			# defects of the converted test data do not count against the goal
			$artifacts++ if $known{$id} =~ /^test data:/;
			next;
		}
		push @unexpected, "$id [$t->{expr}]: $detail";
	}
	$total_run += $run;
	$total_pass += $pass;
	my $raw = $run ? 100.0 * $pass / $run : 100;
	my $pct = ($run - $artifacts) ? 100.0 * $pass / ($run - $artifacts) : 100;
	my $msg = sprintf("%s: %d/%d pass (%.1f%%)%s%s", $file, $pass, $run, $raw,
		$artifacts ? sprintf(", %d test-data defects excluded: %.1f%%", $artifacts, $pct) : '',
		$goal{$file} ? " goal $goal{$file}%" : '');
	diag($msg);
	ok(!@unexpected, "$file: no failure outside the known list") or diag(join("\n", @unexpected));
	if ($goal{$file}) { ok($pct >= $goal{$file}, "$file meets its goal of $goal{$file}%"); }
}
diag("total: $total_pass/$total_run pass, $total_skip skipped (protobuf)");
done_testing();
