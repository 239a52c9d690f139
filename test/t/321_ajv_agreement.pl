# The ajv shape of pg_lowcode's errors against ajv itself (issue 15): ajv 8,
# pinned by test/ajv/package.json and package-lock.json and installed with
# `npm ci`, runs under node over the invalid cases of the JSON Schema Test
# Suite (drafts 7 and 2020-12, allErrors, formats annotated as ours are by
# default); lowcode.jsonschema_validate runs over the same cases.  For each
# case three aspects are compared: the set of (instancePath, schemaPath,
# keyword), and for the errors both have, params and messages.
#
# Every case where they differ must be listed in test/ajv/known_differences.txt
# ("<case> | <aspect> | <reason>"): the test fails on a new difference, and on a
# listed one that has gone (so the list stays true).  The agreement rates are
# printed.
use strict;
use warnings;

use File::Copy;
use File::Find;
use File::Temp qw(tempdir);
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use Encode;
use LowcodeTest;

my $suite = shared_testdata() . '/json-schema-test-suite';
plan skip_all => "JSON Schema test suite not found at $suite" unless -d "$suite/tests";
my $have_node = system('node --version >/dev/null 2>&1') == 0 && system('npm --version >/dev/null 2>&1') == 0;
plan skip_all => 'node and npm are needed to run ajv (scripts/install-deps.sh installs them)' unless $have_node;

my $top = $ENV{LOWCODE_TOP} // '.';
my $json = JSON::PP->new->utf8->canonical->allow_nonref->allow_bignum;

# ---- ajv: node_modules from `npm ci` (in place when installed there, else in a scratch copy)
my $ajv_dir = "$top/test/ajv";
unless (-d "$ajv_dir/node_modules/ajv")
{
	my $tmp = tempdir(DIR => $ENV{TESTDIR} // '/tmp', CLEANUP => 1);
	copy("$ajv_dir/$_", "$tmp/$_") or die "copy $_: $!" for qw(package.json package-lock.json ajv_errors.js);
	system("cd '$tmp' && npm ci --no-audit --no-fund --loglevel=error >/dev/null") == 0
	  or BAIL_OUT('npm ci failed in test/ajv (network or registry unreachable?)');
	$ajv_dir = $tmp;
}
my $out = `node '$ajv_dir/ajv_errors.js' '$suite'`;
die "ajv_errors.js failed" if $? != 0;
my %ajv;
for my $line (split /\n/, $out)
{
	my $r = $json->decode($line);
	$ajv{ $r->{key} } = $r;
}
my $ajv_version = `node -e 'process.stdout.write(require("$ajv_dir/node_modules/ajv/package.json").version)'`;
is($ajv_version, '8.17.1', 'ajv is the pinned version');

# ---- pg_lowcode over the same cases
my $node = lowcode_node('ajv_agreement', no_cron => 1);
sub slurp { my ($p) = @_; open(my $fh, '<:raw', $p) or die "$p: $!"; local $/; my $t = <$fh>; close $fh; return $t; }
sub dq { my ($t) = @_; die if $t =~ /\$JSDOC\$/; return '$JSDOC$' . $t . '$JSDOC$'; }
my @remotes;
find(sub { push @remotes, $File::Find::name if -f $_ && /\.json$/ }, "$suite/remotes");
my $load = '';
for my $path (sort @remotes)
{
	(my $rel = $path) =~ s{^\Q$suite\E/remotes/}{};
	$load .= "SELECT lowcode.register_document('http://localhost:1234/$rel', " . dq(slurp($path)) . "::jsonb);\n";
}
$node->safe_psql('postgres', $load);
# one case's errors, or the error pg_lowcode raised (a schema it refuses)
$node->safe_psql('postgres', q{
CREATE FUNCTION public.case_errors(s text, d text, o jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN coalesce((lowcode.jsonschema_validate(s::jsonb, d::jsonb, o) -> 'errors')::text, 'null');
EXCEPTION WHEN OTHERS THEN
  RETURN json_build_object('pg_failed', SQLERRM)::text;
END
$$});
my %skipped;

my %pg;
for my $draft ('draft7', 'draft2020-12')
{
	my $opt = $draft eq 'draft7' ? '{"draft": "7"}' : '{"draft": "2020-12"}';
	opendir(my $dh, "$suite/tests/$draft") or die;
	for my $file (sort grep { /\.json$/ } readdir $dh)
	{
		my $groups = $json->decode(slurp("$suite/tests/$draft/$file"));
		my @rows;
		for my $g (@$groups)
		{
			for my $t (@{ $g->{tests} })
			{
				next if $t->{valid};
				my $key = "$draft/$file | $g->{description} | $t->{description}";
				my ($sj, $dj) = ($json->encode($g->{schema}), $json->encode($t->{data}));
				# jsonb cannot hold U+0000: such cases cannot reach the validator
				if ("$sj$dj" =~ /\\u0000/) { $skipped{$key} = 1; next; }
				push @rows, '(' . join(', ', dq($key), dq($json->encode($g->{schema})), dq($json->encode($t->{data}))) . ')';
			}
		}
		next unless @rows;
		my $res = $node->safe_psql('postgres',
			"SELECT k || E'\\t' || public.case_errors(s, d, '$opt')"
			  . " FROM (VALUES " . join(', ', @rows) . ") v(k, s, d)");
		# psql's output is UTF-8 bytes; the keys of %ajv are characters (→ in some descriptions)
		for my $line (split /\n/, Encode::decode_utf8($res))
		{
			my ($k, $e) = split /\t/, $line, 2;
			$pg{$k} = $json->decode(Encode::encode_utf8($e));
		}
	}
}

# ---- compare
my %known;
open(my $kfh, '<:encoding(UTF-8)', "$top/test/ajv/known_differences.txt") or die "known_differences.txt: $!";
while (my $line = <$kfh>)
{
	chomp $line;
	next if $line =~ /^\s*(#|$)/;
	my @f = split /\s*\|\s*/, $line;
	die "malformed line (case | aspect | reason): $line" unless @f == 5 && $f[4] ne '';
	$known{ join(' | ', @f[0 .. 3]) } = $f[-1];
}
close $kfh;

sub triple { my ($e) = @_; return join('|', $e->{instancePath}, $e->{schemaPath}, $e->{keyword}); }
my (%total, %agree);
my @new;
# every difference, for whoever updates the list (tmp_check/tap/ajv_differences.jsonl)
open(my $dump, '>', ($ENV{TESTDIR} // '.') . '/ajv_differences.jsonl') or die;
my %seen;
for my $key (sort keys %ajv)
{
	my $a = $ajv{$key};
	next if $a->{ajv_failed} || $a->{valid} || $skipped{$key};    # ajv cannot judge the case, or jsonb cannot hold it
	# every case ajv judged has pg_lowcode's answer (a missing one would count as "no errors")
	my $p = $pg{$key} // die "no pg_lowcode result for $key";
	$p = [ { instancePath => '', schemaPath => '', keyword => 'pg_failed', params => {}, message => $p->{pg_failed} } ]
	  if ref $p eq 'HASH';
	# errors by (instancePath, schemaPath, keyword); several errors of one triple (one per
	# unevaluated property, say) are compared as a multiset: their order is the instance's key
	# order for ajv and jsonb's for pg_lowcode, which is no difference of content
	my (%pa, %pp);
	push @{ $pa{ triple($_) } }, $_ for @{ $a->{errors} };
	push @{ $pp{ triple($_) } }, $_ for @$p;
	my $same_set = join("\n", sort keys %pa) eq join("\n", sort keys %pp);
	my @common = grep { $pp{$_} } sort keys %pa;
	my $all = sub { my ($errs, $f) = @_; return join("\n", sort map { $f->($_) } @$errs); };
	my $params_of = sub { $json->encode($_[0]{params}) };
	my $msg_of = sub { $_[0]{message} // '' };
	my $same_params = !grep { $all->($pa{$_}, $params_of) ne $all->($pp{$_}, $params_of) } @common;
	my $same_msg = !grep { $all->($pa{$_}, $msg_of) ne $all->($pp{$_}, $msg_of) } @common;
	for ([ set => $same_set ], [ params => $same_params ], [ message => $same_msg ])
	{
		my ($aspect, $same) = @$_;
		$total{$aspect}++;
		$agree{$aspect}++ if $same;
		my $k = "$key | $aspect";
		$seen{$k} = 1;
		print $dump $json->encode({ key => $key, aspect => $aspect, ajv => $a->{errors}, pg => $p }) . "\n" unless $same;
		if ($same && $known{$k})
		{
			push @new, "now agrees, remove from the list: $k";
		}
		elsif (!$same && !$known{$k})
		{
			push @new, "new difference: $k\n  ajv: " . $json->encode($a->{errors}) . "\n  pg:  " . $json->encode($p);
		}
	}
}
close $dump;
for my $k (sort keys %known)
{
	push @new, "listed but not a case of the suite: $k" unless $seen{$k};
}
for my $aspect (qw(set params message))
{
	diag(sprintf("ajv agreement on %s: %d of %d cases (%.1f%%)", $aspect, $agree{$aspect}, $total{$aspect},
		100 * $agree{$aspect} / $total{$aspect}));
}
ok(!@new, 'every difference from ajv is listed with its reason, and every listed one is real')
  or diag(join("\n", @new[0 .. ($#new < 40 ? $#new : 39)]) . (@new > 40 ? "\n... and " . (@new - 40) . " more" : ''));

$node->stop;
done_testing();
