# JSON Schema robustness: no crash and only documented errors on any input.
#
# 1. every schema of the official test suite (five drafts) against every
#    instance of the suite: flag and basic outputs must agree on validity;
# 2. 3,000 randomly mutated suite schemas (fixed seed; keyword values replaced
#    by values of other types, odd references, bad patterns...): compiling,
#    checking and validating them may only raise SQLSTATEs of class LJ.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;

my $suite = shared_testdata() . '/json-schema-test-suite/tests';
plan skip_all => "JSON Schema test suite not found at $suite" unless -d $suite;

my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my (@schemas, %instances);
for my $draft (qw(draft4 draft6 draft7 draft2019-09 draft2020-12))
{
	(my $short = $draft) =~ s/^draft//;
	opendir(my $dh, "$suite/$draft") or die;
	for my $f (sort grep { /\.json$/ } readdir $dh)
	{
		for my $g (@{ read_json_file("$suite/$draft/$f") })
		{
			my $s = $json->encode($g->{schema});
			next if $s =~ /\\u0000/;
			push @schemas, [ $short, $g->{schema} ];
			for my $t (@{ $g->{tests} })
			{
				my $d = $json->encode($t->{data});
				$instances{$d} = 1 unless $d =~ /\\u0000/;
			}
		}
	}
	closedir $dh;
}

my $node = lowcode_node('jsonschema_robustness', no_cron => 1);

sub dq { my ($t) = @_; die if $t =~ /\$JS\$/; return '$JS$' . $t . '$JS$'; }

$node->safe_psql('postgres',
	"CREATE TABLE fz_s (draft text, s jsonb); CREATE TABLE fz_d (d jsonb); CREATE TABLE fz_m (s jsonb);\n"
	  . "INSERT INTO fz_s SELECT e->>0, e->1 FROM jsonb_array_elements("
	  . dq($json->encode([ map { [ $_->[0], $_->[1] ] } @schemas ])) . "::jsonb) e;\n"
	  . "INSERT INTO fz_d SELECT e FROM jsonb_array_elements("
	  . dq('[' . join(',', sort keys %instances) . ']') . "::jsonb) e;\n");

# ---- 1. cross product, flag vs basic ----
my $out = $node->safe_psql('postgres', q{
CREATE FUNCTION fz_cross() RETURNS TABLE(state text, n bigint) LANGUAGE plpgsql AS $f$
DECLARE r record; bad bigint := 0; errs jsonb := '{}'; k text; c bigint;
BEGIN
  FOR r IN SELECT * FROM fz_s LOOP
    BEGIN
      SELECT count(*) INTO c FROM fz_d
      WHERE (lowcode.jsonschema_validate(r.s, d, jsonb_build_object('draft', r.draft, 'output', 'flag'))->>'valid')
         <> (lowcode.jsonschema_validate(r.s, d, jsonb_build_object('draft', r.draft, 'max_errors', 3))->>'valid');
      bad := bad + c;
      k := 'ok';
    EXCEPTION WHEN OTHERS THEN
      k := SQLSTATE;
    END;
    errs := jsonb_set(errs, ARRAY[k], to_jsonb(coalesce((errs->>k)::int, 0) + 1));
  END LOOP;
  RETURN QUERY SELECT 'disagreements', bad;
  RETURN QUERY SELECT key, value::bigint FROM jsonb_each_text(errs);
END $f$;
SELECT state || '=' || n FROM fz_cross() ORDER BY 1;
});
note "cross product: $out";
like($out, qr/^disagreements=0$/m, scalar(@schemas) . ' schemas x ' . scalar(keys %instances) . ' instances: flag and basic outputs agree');
my @bad_states = grep { !/^(disagreements|ok|LJ\d{3})=/ } split /\n/, $out;
is(scalar(@bad_states), 0, 'cross product raises only LJ errors (unresolvable remotes, unknown dialects)')
  or diag join("\n", @bad_states);

# ---- 2. mutated schemas ----
srand(7);
my @odd = (JSON::PP::null, JSON::PP::true, JSON::PP::false, 0, -1, 1.5, "1e300", '', 'x', '#', '#/',
	'#/definitions', 'http://localhost:1234/', '(', '[', [], {}, [ 1, 'a' ], { a => 1 }, { '$ref' => '#' },
	{ type => 'array' }, '^(a+)+$', { '$id' => '#x' }, { '$dynamicRef' => '#x' },
	{ '$recursiveRef' => '#' }, { '$ref' => '#/$defs/none' }, { items => { '$ref' => '#' } });

sub mutate
{
	my ($x) = @_;
	if (ref $x eq 'HASH' && %$x && rand() < 0.7)
	{
		my @k = sort keys %$x;
		my $k = $k[ int(rand(@k)) ];
		my %y = %$x;
		$y{$k} = rand() < 0.6 ? mutate($x->{$k}) : $odd[ int(rand(@odd)) ];
		return \%y;
	}
	if (ref $x eq 'ARRAY' && @$x && rand() < 0.7)
	{
		my @y = @$x;
		my $i = int(rand(@y));
		$y[$i] = mutate($y[$i]);
		return \@y;
	}
	return $odd[ int(rand(@odd)) ];
}

my @mutants;
push @mutants, mutate($schemas[ int(rand(@schemas)) ][1]) for 1 .. 3000;
$node->safe_psql('postgres',
	"INSERT INTO fz_m SELECT e FROM jsonb_array_elements(" . dq($json->encode(\@mutants)) . "::jsonb) e");
$out = $node->safe_psql('postgres', q{
CREATE FUNCTION fz_mutants() RETURNS TABLE(state text, n bigint) LANGUAGE plpgsql AS $f$
DECLARE r record; errs jsonb := '{}'; k text; c bigint; chk jsonb;
BEGIN
  FOR r IN SELECT * FROM fz_m LOOP
    BEGIN
      chk := lowcode.jsonschema_check(r.s);
      SELECT count(*) INTO c FROM fz_d WHERE (lowcode.jsonschema_validate(r.s, d)->>'valid')::boolean;
      k := CASE WHEN (chk->>'valid')::boolean THEN 'ok' ELSE 'ok, check found errors' END;
    EXCEPTION WHEN OTHERS THEN
      k := SQLSTATE;
    END;
    errs := jsonb_set(errs, ARRAY[k], to_jsonb(coalesce((errs->>k)::int, 0) + 1));
  END LOOP;
  RETURN QUERY SELECT key, value::bigint FROM jsonb_each_text(errs);
END $f$;
SELECT state || '=' || n FROM fz_mutants() ORDER BY 1;
});
note "mutants: $out";
@bad_states = grep { !/^(ok|ok, check found errors|LJ\d{3})=/ } split /\n/, $out;
is(scalar(@bad_states), 0, '3,000 mutated schemas: only LJ errors, no crash') or diag join("\n", @bad_states);
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server still up');

$node->stop;
done_testing();
