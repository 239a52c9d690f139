# schema_diff over every schema of the JSON Schema Test Suite (all five
# drafts, read in place from the shared test data): each schema compared with
# itself reports no change, and each compared with its neighbours in the
# suite (both directions) answers without an error or a crash.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use JSON::PP;
use LowcodeTest;

my $suite = shared_testdata() . '/json-schema-test-suite/tests';
plan skip_all => "JSON Schema Test Suite not found at $suite" unless -d $suite;


my $node = lowcode_node('registry_diff_suite');
my $json = JSON::PP->new->utf8->canonical;

my @schemas;
for my $draft (qw(draft4 draft6 draft7 draft2019-09 draft2020-12))
{
	for my $file (sort glob("$suite/$draft/*.json"))
	{
		for my $group (@{ read_json_file($file) })
		{
			my $text = $json->encode($group->{schema});
			next if $text =~ /\\u0000/;    # jsonb cannot hold NUL
			push @schemas, $text;
		}
	}
}
ok(@schemas > 1000, scalar(@schemas) . ' schemas read');

my $copy = join('', map { my $s = $_; $s =~ s/\\/\\\\/g; "$s\n" } @schemas);
$node->safe_psql('postgres', "CREATE TABLE ss (i serial, s jsonb);");
my ($stdout, $stderr);
$node->psql('postgres', "COPY ss (s) FROM STDIN;\n$copy\\.\n", stdout => \$stdout, stderr => \$stderr);
is($node->safe_psql('postgres', 'SELECT count(*) FROM ss'), scalar(@schemas), 'all loaded');

is($node->safe_psql('postgres', q{SELECT count(*) FROM ss WHERE jsonb_array_length(lowcode.schema_diff(s, s)) > 0}),
	'0', 'every schema compared with itself: no change');

my $errors = $node->safe_psql('postgres', q{
	DO $$
	DECLARE a record; b record; n int := 0; e int := 0;
	BEGIN
	  FOR a IN SELECT * FROM ss LOOP
	    FOR b IN SELECT * FROM ss WHERE i BETWEEN a.i - 3 AND a.i + 3 AND i <> a.i LOOP
	      BEGIN
	        PERFORM lowcode.schema_diff(a.s, b.s);
	        n := n + 1;
	      EXCEPTION WHEN OTHERS THEN
	        e := e + 1;
	        RAISE WARNING 'schema % vs %: % %', a.i, b.i, SQLSTATE, SQLERRM;
	      END;
	    END LOOP;
	  END LOOP;
	  CREATE TEMP TABLE result AS SELECT n, e;
	END $$;
	SELECT e FROM result;
});
is($errors, '0', 'neighbouring schemas compared both ways without an error');
$node->stop;
done_testing();
