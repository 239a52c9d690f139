# Trace context and metrics through a real PostgREST (issue 20): the W3C
# traceparent request header reaches request.headers and becomes the trace id
# of the request's audit rows, submissions and events, and of its errors
# (response header X-Trace-Id); a request without it has none; the metrics
# count what PostgREST's requests did (admitted, refused by status, latency,
# validations per subject).
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;
use PostgrestHttp;

my $node = lowcode_node('trace_postgrest', no_cron => 1);
PostgrestHttp->setup_roles($node);
my $sql = sub { $node->safe_psql('postgres', $_[0]) };
my $t = $sql->(q{SELECT lowcode.create_tenant('traced-co', NULL, 'enterprise')});
$sql->(q{
	CREATE SCHEMA api;
	GRANT USAGE ON SCHEMA api TO anon, authenticated;
	CREATE TABLE api.notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, title text NOT NULL);
	SELECT lowcode.make_tenant_table('api.notes');
	GRANT SELECT, INSERT ON api.notes TO authenticated;
	CREATE FUNCTION api.register(subject text, schema jsonb) RETURNS integer LANGUAGE sql
	  AS $$ SELECT lowcode.register_schema(subject, schema) $$;
	CREATE FUNCTION api.submit(subject text, data jsonb) RETURNS jsonb LANGUAGE sql
	  AS $$ SELECT lowcode.submit(subject, data) $$;
	SELECT lowcode.metrics_reset();
});

my $pg = PostgrestHttp->new(node => $node, schemas => ['api'], extra_search_path => ['public', 'lowcode']);
$pg->start;
my %claims = (role => 'authenticated', tenant_id => $t, sub => 'ada');
my $trace = '4bf92f3577b34da6a3ce929d0e0e4736';
my %tp = (traceparent => "00-$trace-00f067aa0ba902b7-01");

my $res = $pg->post('/rpc/register', claims => \%claims, headers => \%tp,
	body => { subject => 'note-form', schema => { type => 'object', required => ['title'] } });
is($res->{status}, 200, 'POST /rpc/register with a traceparent: 200') or diag($res->{content});
is($sql->(q{SELECT string_agg(trace_id, ',') FROM lowcode.registry_audit WHERE subject = 'note-form'}), $trace,
	'the audit row carries the trace id of the traceparent header');
is($sql->(q{SELECT string_agg(trace_id, ',') FROM lowcode.events WHERE type = 'registry.schema_registered'}), $trace,
	'...and so does the event');

$res = $pg->post('/rpc/submit', claims => \%claims, headers => \%tp,
	body => { subject => 'note-form', data => { title => 'first' } });
is($res->{status}, 200, 'a valid submission: 200') or diag($res->{content});
is($sql->(q{SELECT string_agg(trace_id, ',') FROM lowcode.submissions}), $trace, 'the submission carries it');

$res = $pg->post('/rpc/submit', claims => \%claims, headers => \%tp, body => { subject => 'note-form', data => {} });
is($res->{status}, 422, 'an invalid submission: 422');
is($res->{body}{code}, 'LG012', '...code LG012');
is($res->{headers}{'x-trace-id'}, $trace, '...with the trace id in the X-Trace-Id response header');
ok(!exists $res->{body}{trace_id}, '...PostgREST keeps its four body keys');

$res = $pg->get('/notes', headers => \%tp);
is($res->{status}, 401, 'no JWT: 401 from the hook');
is($res->{headers}{'x-trace-id'}, $trace, '...with X-Trace-Id');
is($res->{headers}{'www-authenticate'}, 'Bearer error="invalid_token"', '...beside the hook\'s own header');

$res = $pg->get('/notes', claims => \%claims);
is($res->{status}, 200, 'a request without traceparent: 200');
$res = $pg->post('/rpc/submit', claims => \%claims, body => { subject => 'note-form', data => {} });
is($res->{status}, 422, 'an invalid submission without traceparent: 422');
ok(!exists $res->{headers}{'x-trace-id'}, '...and no X-Trace-Id');
$res = $pg->post('/rpc/submit', claims => \%claims, body => { subject => 'note-form', data => { title => 'second' } });
is($sql->(q{SELECT count(*) FROM lowcode.submissions WHERE trace_id IS NULL}), 1, '...no trace id on its rows');

# the metrics of these requests
my %m = map { my ($k, $v) = split /\|/; ($k => $v) } split /\n/, $sql->(qq{
	SELECT metric || coalesce(' ' || (SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM jsonb_each_text(labels)), ''), value
	  FROM lowcode.metrics WHERE tenant IN ('$t', 'none')});
is($m{'lowcode_requests_admitted_total'}, 6, 'metrics: 6 requests of the tenant admitted');
is($m{'lowcode_requests_refused_total status=422'}, 2, 'metrics: 2 refused with 422');
is($m{'lowcode_requests_failed_total'}, 2, 'metrics: the 2 refused after admission rolled back');
is($m{'lowcode_request_duration_seconds_count'}, 6, 'metrics: 6 latencies observed');
is($m{'lowcode_subject_validation_failures_total subject=note-form'}, 2, 'metrics: 2 validation failures of note-form');
is($m{'lowcode_subject_validations_total subject=note-form'}, 4, 'metrics: 4 validations of note-form');
is($sql->(q{SELECT value FROM lowcode.metrics WHERE tenant = 'none' AND metric = 'lowcode_requests_refused_total' AND labels->>'status' = '401'}),
	1, 'metrics: the 401 without tenant under "none"');

$pg->stop;
$node->stop;
done_testing();
