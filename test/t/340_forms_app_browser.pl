# The example app (examples/forms-app) in a real browser against real
# PostgREST: a PostgreSQL cluster with pg_lowcode, ../shared/bin/postgrest on
# 127.0.0.1, the app server (identity back end + static files + /api proxy),
# and Debian's Chromium driven by playwright-core
# (examples/forms-app/test/browser.test.mjs).  The flows: sign in (a session
# for a demo user), choose a form from the tenant's registry (field order and
# titles from the registry), ajv's live errors next to a field, the server's
# 422 for a cross-field rule next to the same field, the submission in the
# list, and a second tenant that sees none of it.  Screenshots of every step
# go to tmp_check/screenshots.
#
# Needs: the built front-end kit and app (scripts/test.sh builds them), node,
# chromium (scripts/install-deps.sh installs it), ../shared/bin/postgrest.
use strict;
use warnings;

use Test::More;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use HTTP::Tiny;
use FindBin;
use lib "$FindBin::Bin/../lib";
use LowcodeTest;
use PostgrestHttp;

my $top = $ENV{LOWCODE_TOP} // "$FindBin::Bin/../..";
my $app = "$top/examples/forms-app";
my $postgrest = PostgrestHttp::binary() // '../shared/bin/postgrest';
my $chromium = $ENV{CHROMIUM} // '/usr/bin/chromium';
for my $need ("$app/dist/app.js", "$app/node_modules/playwright-core", $postgrest, $chromium)
{
	BAIL_OUT("missing $need (scripts/test.sh builds the app; scripts/install-deps.sh installs chromium)")
	  unless -e $need;
}

my $node = lowcode_node('forms_app', no_cron => 1);
my $socket = $node->host;
my $port = $node->port;

PostgrestHttp->setup_roles($node);
$node->safe_psql('postgres', q{
CREATE ROLE app_idp LOGIN IN ROLE lowcode_operator;
GRANT SELECT ON lowcode.tenants TO app_idp;
});
my $acme = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('acme', 'Acme Corp', 'pro')});
my $globex = $node->safe_psql('postgres', q{SELECT lowcode.create_tenant('globex', 'Globex', 'pro')});

# The tenant's form, registered in its own context as its form builder would.
$node->safe_psql('postgres', qq{
BEGIN;
SELECT set_config('request.jwt.claims', '{"tenant_id": "$acme", "sub": "admin\@acme.example"}', true);
SELECT lowcode.register_form('leave-request', \$j\$
{"type": "object", "title": "Leave request",
 "required": ["employee", "start_date", "end_date"],
 "properties": {
   "employee":   {"type": "string", "title": "Employee", "minLength": 1},
   "start_date": {"type": "string", "title": "First day", "format": "date"},
   "end_date":   {"type": "string", "title": "Last day", "format": "date"},
   "days":       {"type": "integer", "title": "Days off", "minimum": 1}
 },
 "x-rules": [{"rule": "end_date >= start_date", "message": "the last day must not be before the first day",
              "path": "/end_date"}]}
\$j\$, 'Leave request');
COMMIT;});

# Real PostgREST on a free port of 127.0.0.1 (test/lib/PostgrestHttp.pm), serving the API schema of
# scripts/api_schema.sql as a deployment does (docs/postgrest.md).
PostgrestHttp->create_api_schema($node);
my $pg = PostgrestHttp->new(node => $node, schemas => ['api'], extra_search_path => ['public', 'lowcode']);
$pg->start;
my $http = HTTP::Tiny->new(timeout => 5);
my $up;

# The app server, as the identity back end of a deployment.
my $app_port = PostgreSQL::Test::Cluster::get_free_port();
my ($app_out, $app_err) = ('', '');
my $appsrv = IPC::Run::start([ 'node', "$app/server.mjs" ], '>', \$app_out, '2>', \$app_err,
	init => sub {
		$ENV{APP_PORT} = $app_port;
		$ENV{PGRST_URL} = $pg->url;
		$ENV{PGRST_JWT_SECRET} = $pg->jwt_secret;
		$ENV{API_SCHEMA} = 'api';
		$ENV{DATABASE_URL} = "postgres://app_idp\@localhost/postgres?host=$socket&port=$port";
		$ENV{PGHOST} = $socket;
		$ENV{PGPORT} = $port;
		$ENV{DEMO_USERS} = '{"acme": ["ann@acme.example"], "globex": ["bob@globex.example"]}';
	});
$up = 0;
for (1 .. 100)
{
	my $r = $http->get("http://127.0.0.1:$app_port/config.json");
	if ($r->{status} == 200) { $up = 1; last; }
	select(undef, undef, undef, 0.1);
}
ok($up, 'the app server is up') or BAIL_OUT("the app server did not start: $app_err");

# The browser flows.
my $shots = "$PostgreSQL::Test::Utils::tmp_check/screenshots";
my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ 'node', '--test', '--test-reporter=tap', "$app/test/browser.test.mjs" ],
	'>', \$out, '2>', \$err,
	init => sub { $ENV{APP_URL} = "http://127.0.0.1:$app_port/"; $ENV{SCREENSHOT_DIR} = $shots; $ENV{CHROMIUM} = $chromium; });
ok($ok, 'every browser flow passed (screenshots in tmp_check/screenshots)')
  or diag("browser tests:\n$out\n$err\napp server:\n$app_err");
note($out);

# What the browser did is in the database, in the right tenant.
is($node->safe_psql('postgres', qq{SELECT count(*) FROM lowcode.submissions WHERE tenant_id = '$acme'}), '1',
	'acme has the one submission the browser made');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM lowcode.submissions WHERE tenant_id = '$globex'}), '0',
	'globex has none');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM lowcode.sessions WHERE tenant_id = '$acme'}), '1',
	'signing in made a session for the acme user');

# Types from the registry: lowcode-types reads the version through PostgREST.
{
	my $jwt = $pg->jwt({ role => 'authenticated', tenant_id => $acme, sub => 'ann@acme.example' });
	my ($ts, $tserr) = ('', '');
	IPC::Run::run([ 'node', "$top/clients/js/dist/bin/lowcode-types.js", '--url', $pg->url,
		'--token', $jwt, 'leave-request' ], '>', \$ts, '2>', \$tserr);
	like($ts, qr/^export type LeaveRequest = \{$/m, 'lowcode-types names the type after the subject') or diag($tserr);
	like($ts, qr/^  \/\*\* Employee \*\/\n  employee: string;$/m, 'a required field with its title');
	like($ts, qr/^  days\?: number;$/m, 'an optional integer field');
}

$appsrv->kill_kill;
$pg->stop;
$node->stop;
done_testing();
