# PostgrestReplay: replays, statement for statement, the transaction that
# PostgREST 12 sends to PostgreSQL for each HTTP request, and maps errors and
# results to HTTP statuses the way PostgREST does. It serves what HTTP cannot
# reach (crashes mid-request, many sessions, a connection picked by the test);
# test/t/320_postgrest_http.pl measures that it agrees with the real server
# (test/lib/PostgrestHttp.pm) on every case the HTTP suite covers.
#
# For each request, on a connection taken from a pool shared by every
# tenant and role (as PostgREST's pool is):
#   BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY   -- GET/HEAD, and POST /rpc of a STABLE/IMMUTABLE function
#   BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE  -- other methods, POST /rpc of a VOLATILE function
#   select set_config('search_path', $1, true), set_config('role', $2, true),
#          set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true),
#          set_config('request.path', $5, true), set_config('request.headers', $6, true),
#          set_config('request.cookies', $7, true)
#   select "lowcode"."pre_request"()
#   <the request's statement>
#   COMMIT   (ROLLBACK after an error)
# as PostgREST 12.0.3 does (src/PostgREST/Query.hs setPgLocals, Plan.hs
# callReadPlan): search_path is the request's schema followed by
# db-extra-search-path, each quoted; the claims always hold "role" (a request
# without JWT has {"role":"anon"}); 42501 is 401 (with WWW-Authenticate: Bearer)
# for the anon role and 403 for any other; success is 201 for POST to a table,
# 204 for PATCH/DELETE without Prefer: return=representation (200 with it), 200
# for RPC (204 for a void function) and reads.
#
# Usage:
#   my $api = PostgrestReplay->new(node => $node, dbname => 'postgres', pool_size => 2,
#                                  schemas => ['api'], extra_search_path => ['public']);
#   my $res = $api->request(method => 'GET', path => '/items', claims => {tenant_id => $t, role => 'authenticated'},
#                           sql => 'select * from items', params => []);
#   $res->{status}  # 200, or the HTTP status PostgREST would answer
#   $res->{rows}    # array of hashes (the statement's result), on success
#   $res->{error}   # {sqlstate, code, message, details, hint}, on failure
#   $res->{headers} # response headers of an error (a PGRST error's own, WWW-Authenticate of a 401)
# Option code => sub { my ($dbh) = @_; ...; return \@rows } runs custom steps as
# the request's statement (for COPY and the like); read_only => 0/1 overrides
# the transaction mode; prefer => 'return=representation' for PATCH/DELETE.
# Helpers build PostgREST-shaped statements: get(), insert(), update(), delete(), rpc().
# rpc() reads the function's argument types, result and volatility from the
# catalog (as PostgREST's schema cache does); method => 'GET' passes the
# arguments as query-string text, as PostgREST does.
package PostgrestReplay;

use strict;
use warnings;

use DBI;
use JSON::PP;

my $json = JSON::PP->new->utf8->canonical->allow_nonref;

sub new
{
	my ($class, %o) = @_;
	my $self = bless {
		node => $o{node},
		dbname => $o{dbname} // 'postgres',
		user => $o{user} // 'authenticator',
		pool_size => $o{pool_size} // 2,
		# db-schemas (the first is the request's schema) and db-extra-search-path
		schemas => $o{schemas} // ['lowcode'],
		extra_search_path => $o{extra_search_path} // ['public'],
		anon_role => $o{anon_role} // 'anon',
		pool => [],
		next => 0,
		log => [],
	}, $class;
	for (1 .. $self->{pool_size})
	{
		push @{ $self->{pool} }, $self->_connect;
	}
	return $self;
}

# Create PostgREST's usual roles: authenticator (login, noinherit), anon and
# authenticated, and grant the API role what pg_lowcode says a tenant user needs.
sub setup_roles
{
	my ($class, $node, $dbname) = @_;
	$dbname //= 'postgres';
	$node->safe_psql($dbname, q{
		DO $$ BEGIN
		  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticator') THEN
		    CREATE ROLE authenticator LOGIN NOINHERIT;
		  END IF;
		  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
		    CREATE ROLE anon NOLOGIN;
		  END IF;
		  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
		    CREATE ROLE authenticated NOLOGIN;
		  END IF;
		END $$;
		GRANT anon, authenticated TO authenticator;
		SELECT lowcode.grant_api_role('authenticated');
	});
}

sub _connect
{
	my ($self) = @_;
	my $node = $self->{node};
	my $dsn = sprintf('dbi:Pg:dbname=%s;host=%s;port=%d', $self->{dbname}, $node->host, $node->port);
	my $dbh = DBI->connect($dsn, $self->{user}, '',
		{ AutoCommit => 1, RaiseError => 0, PrintError => 0, pg_enable_utf8 => 1 })
	  or die "PostgrestReplay: cannot connect: $DBI::errstr";
	return $dbh;
}

# The connection for the next request: round robin over the pool, so that
# consecutive requests of different tenants reuse each other's connections.
sub _take
{
	my ($self) = @_;
	my $dbh = $self->{pool}[ $self->{next} ];
	$self->{next} = ($self->{next} + 1) % scalar @{ $self->{pool} };
	return $dbh;
}

sub connections { @{ $_[0]{pool} } }

sub request
{
	my ($self, %r) = @_;
	my $method = uc($r{method} // 'GET');
	my $claims = $r{claims};
	my $role = $r{role} // ($claims && $claims->{role}) // $self->{anon_role};
	my $dbh = $r{dbh} // $self->_take;
	my $read_only = $r{read_only} // ($method eq 'GET' || $method eq 'HEAD');
	my %headers = (%{ $r{headers} // {} });
	$headers{authorization} = 'Bearer <verified>' if $claims && !exists $headers{authorization};
	# PostgREST puts the role into the claims (the anon role without JWT).
	my %jwt_claims = (%{ $claims // {} }, role => $role);
	my $authenticated = ($role ne ($self->{anon_role} // ''));

	my $schema = $r{schema} // $self->{schemas}[0];
	my $search_path = join(', ', map { _qi($_) } ($schema, @{ $self->{extra_search_path} }));
	my @steps = (
		[ 'BEGIN ISOLATION LEVEL READ COMMITTED ' . ($read_only ? 'READ ONLY' : 'READ WRITE'), [] ],
		[
			q{select set_config('search_path', $1, true), set_config('role', $2, true), }
			  . q{set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true), }
			  . q{set_config('request.path', $5, true), set_config('request.headers', $6, true), }
			  . q{set_config('request.cookies', $7, true)},
			[
				$search_path, $role,
				$json->encode(\%jwt_claims),
				$method, ($r{path} // '/'),
				$json->encode(\%headers),
				$json->encode($r{cookies} // {})
			]
		],
		[ $r{pre_request} // q{select "lowcode"."pre_request"()}, [] ],
	);
	push @steps, [ $r{sql}, $r{params} // [] ] if defined $r{sql};

	my $representation = ($r{prefer} // '') =~ /return=representation/;
	my $ok_status = $r{ok_status}
	  // (($r{path} // '') =~ m{^/rpc/} ? 200 : $method eq 'POST' ? 201 : ($method eq 'PATCH' || $method eq 'DELETE') ? ($representation ? 200 : 204) : 200);
	my $result = { status => $ok_status, rows => [] };
	for my $i (0 .. $#steps)
	{
		my ($sql, $params) = @{ $steps[$i] };
		push @{ $self->{log} }, $sql;
		my $sth = $dbh->prepare($sql);
		my $ok = $sth && $sth->execute(@$params);
		if (!$ok)
		{
			my $err = _error($dbh);
			$dbh->do('ROLLBACK');
			$result->{status} = _status($err, $authenticated);
			$result->{error} = $err;
			$result->{headers} = _error_headers($err, $result->{status});
			$result->{rows} = [];
			return $result;
		}
		if ($i == $#steps && $sth->{NUM_OF_FIELDS})
		{
			$result->{rows} = $sth->fetchall_arrayref({});
		}
	}
	if ($r{code})
	{
		# A custom step run as the request's statement (COPY, several statements...):
		# it receives the connection inside the transaction and returns rows.
		my $rows = eval { $r{code}->($dbh) };
		if (!defined $rows || $dbh->err)
		{
			my $err = _error($dbh);
			$err->{message} //= $@;
			$dbh->do('ROLLBACK');
			$result->{status} = _status($err, $authenticated);
			$result->{error} = $err;
			$result->{headers} = _error_headers($err, $result->{status});
			$result->{rows} = [];
			return $result;
		}
		$result->{rows} = $rows;
	}
	if (!$dbh->do('COMMIT'))
	{
		my $err = _error($dbh);
		$dbh->do('ROLLBACK');
		$result->{status} = _status($err, $authenticated);
		$result->{error} = $err;
		$result->{headers} = _error_headers($err, $result->{status});
		$result->{rows} = [];
	}
	return $result;
}

# The headers of an error response: a PGRST error's own; WWW-Authenticate:
# Bearer for any other 401 (src/PostgREST/Error.hs).
sub _error_headers
{
	my ($err, $status) = @_;
	return $err->{headers} // {} if $err->{sqlstate} eq 'PGRST';
	return $status == 401 ? { 'WWW-Authenticate' => 'Bearer' } : {};
}

# libpq's error text: "ERROR:  message\nDETAIL:  detail\nHINT:  hint\n"
sub _error
{
	my ($dbh) = @_;
	my $text = $dbh->errstr // '';
	my %e = (sqlstate => $dbh->state // '', raw => $text);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^(?:ERROR|FATAL|PANIC):\s+(.*)$/) { $e{message} = $1; }
		elsif ($line =~ /^DETAIL:\s+(.*)$/) { $e{details} = $1; }
		elsif ($line =~ /^HINT:\s+(.*)$/) { $e{hint} = $1; }
	}
	$e{code} = $e{sqlstate};
	if ($e{sqlstate} eq 'PGRST')
	{
		# PostgREST reads the message and the detail as JSON.
		my $body = eval { $json->decode($e{message}) };
		my $det = eval { $json->decode($e{details} // '') };
		$e{pgrst_ok} = (ref $body eq 'HASH' && ref $det eq 'HASH') ? 1 : 0;
		$body = {} unless ref $body eq 'HASH';
		$det = {} unless ref $det eq 'HASH';
		$e{pgrst_status} = $det->{status};
		$e{headers} = $det->{headers} // {};
		$e{code} = $body->{code};
		$e{message} = $body->{message};
		$e{details} = $body->{details};
		$e{hint} = $body->{hint};
	}
	return \%e;
}

# PostgREST 12's mapping from SQLSTATE to HTTP status (pgErrorStatus of
# src/PostgREST/Error.hs, v12.0.3). $authenticated: the request's role is not
# the anon role. One case the replay cannot follow: PostgREST retries a
# transaction that fails with 40001 (serialization_failure) until it succeeds,
# where the replay answers 500 at once.
sub _status
{
	my ($e, $authenticated) = @_;
	my $s = $e->{sqlstate} // '';
	my $m = $e->{message} // '';
	if ($s eq 'PGRST')
	{
		# a message or detail that is not PostgREST's JSON: PGRST121, 500
		return $e->{pgrst_ok} ? ($e->{pgrst_status} // 500) : 500;
	}
	return $1 + 0 if $s =~ /^PT(\d\d\d)$/;
	return ($m =~ /requires a WHERE clause$/ ? 400 : 500) if $s eq '21000';
	return ($m =~ /^function xmlagg\(/ ? 406 : 404) if $s eq '42883';
	return ($authenticated ? 403 : 401) if $s eq '42501';
	return 503 if $s eq '57P01';
	my %exact = (
		'23503' => 409, '23505' => 409, '25006' => 405, 'P0001' => 400,
		'42P01' => 404, '42P17' => 500,
	);
	return $exact{$s} if exists $exact{$s};
	my %class = (
		'08' => 503, '09' => 500, '0L' => 403, '0P' => 403, '25' => 500, '28' => 403,
		'2D' => 500, '38' => 500, '39' => 500, '3B' => 500, '40' => 500, '53' => 503,
		'54' => 413, '55' => 500, '57' => 500, '58' => 500, 'F0' => 500, 'HV' => 500,
		'P0' => 500, 'XX' => 500,
	);
	my $c = substr($s, 0, 2);
	return $class{$c} if exists $class{$c};
	return 400;
}

sub _qi { my $s = shift; $s =~ s/"/""/g; return qq{"$s"}; }
sub _rel { my ($t) = @_; return join('.', map { _qi($_) } split /\./, $t); }

# GET /table?filter: PostgREST's read statement shape.
sub get
{
	my ($self, %r) = @_;
	my $rel = _rel($r{table});
	my $where = $r{where} ? " WHERE $r{where}" : '';
	return $self->request(%r, method => 'GET', path => "/$r{table}",
		sql => "WITH pgrst_source AS ( SELECT $rel.* FROM $rel$where ) "
		  . "SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, "
		  . "coalesce(json_agg(_postgrest_t), '[]')::text AS body, "
		  . "nullif(current_setting('response.headers', true), '') AS response_headers, "
		  . "nullif(current_setting('response.status', true), '') AS response_status "
		  . "FROM ( SELECT * FROM pgrst_source ) _postgrest_t");
}

# POST /table with a JSON array body: PostgREST's insert shape.
sub insert
{
	my ($self, %r) = @_;
	my $rel = _rel($r{table});
	my @cols = @{ $r{columns} };
	my $collist = join(', ', map { _qi($_) } @cols);
	my $sel = join(', ', map { 'pgrst_body.' . _qi($_) } @cols);
	my $conflict = $r{on_conflict} ? " $r{on_conflict}" : '';
	return $self->request(%r, method => 'POST', path => "/$r{table}",
		sql => "WITH pgrst_source AS (INSERT INTO $rel($collist) SELECT $sel FROM "
		  . "(SELECT \$1::json AS json_data) pgrst_payload, "
		  . "LATERAL (SELECT $collist FROM json_populate_recordset(null::$rel, pgrst_payload.json_data)) pgrst_body"
		  . "$conflict RETURNING $rel.*) "
		  . "SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, "
		  . "coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t",
		params => [ $json->encode($r{body}) ]);
}

# PATCH /table?filter with a JSON object body.
sub update
{
	my ($self, %r) = @_;
	my $rel = _rel($r{table});
	my @cols = sort keys %{ $r{body} };
	my $set = join(', ', map { _qi($_) . ' = pgrst_body.' . _qi($_) } @cols);
	my $collist = join(', ', map { _qi($_) } @cols);
	my $where = $r{where} ? " WHERE $r{where}" : '';
	return $self->request(%r, method => 'PATCH', path => "/$r{table}",
		sql => "WITH pgrst_source AS (UPDATE $rel SET $set FROM "
		  . "(SELECT $collist FROM json_populate_record(null::$rel, \$1::json)) pgrst_body$where RETURNING $rel.*) "
		  . "SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, "
		  . "coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t",
		params => [ $json->encode($r{body}) ]);
}

# DELETE /table?filter
sub delete
{
	my ($self, %r) = @_;
	my $rel = _rel($r{table});
	my $where = $r{where} ? " WHERE $r{where}" : '';
	return $self->request(%r, method => 'DELETE', path => "/$r{table}",
		sql => "WITH pgrst_source AS (DELETE FROM $rel$where RETURNING $rel.*) "
		  . "SELECT '' AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, "
		  . "coalesce(json_agg(_postgrest_t), '[]')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t");
}

# The function PostgREST would call for /rpc/NAME with these argument names
# (its schema cache): the one of that name in the request's schema (or the
# given schema) whose parameters include every argument and whose other
# parameters have defaults. Returns {args => {name => type}, order => [names],
# volatile => 0/1, void => 0/1, setof => 0/1}.
sub _proc
{
	my ($self, $name, $keys, $schema) = @_;
	my ($sch, $fn) = $name =~ /^(.+)\.([^.]+)$/ ? ($1, $2) : ($schema // $self->{schemas}[0], $name);
	my $key = join("\0", $sch, $fn, sort @$keys);
	return $self->{procs}{$key} if $self->{procs}{$key};
	my $dbh = $self->{pool}[0];
	my $rows = $dbh->selectall_arrayref(q{
		SELECT p.provolatile, p.prorettype = 'pg_catalog.void'::pg_catalog.regtype, p.proretset, p.pronargdefaults,
		       coalesce(p.proargnames, '{}'), p.pronargs,
		       array(SELECT pg_catalog.format_type(t, NULL) FROM pg_catalog.unnest(p.proargtypes) t)
		  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		 WHERE n.nspname = $1 AND p.proname = $2 ORDER BY p.pronargs}, {}, $sch, $fn)
	  or die "PostgrestReplay: cannot read the catalog: " . $dbh->errstr;
	for my $row (@$rows)
	{
		my ($vol, $void, $setof, $ndef, $allnames, $nargs, $types) = @$row;
		my $names = [ @{$allnames}[ 0 .. $nargs - 1 ] ];    # the input parameters (OUT ones follow)
		my %pos = map { $names->[$_] => $_ } 0 .. $#$names;
		next if grep { !exists $pos{$_} } @$keys;
		my %given = map { $_ => 1 } @$keys;
		next if grep { !$given{ $names->[$_] } && $_ < @$names - $ndef } 0 .. $#$names;
		return $self->{procs}{$key} = {
			schema => $sch, name => $fn, volatile => ($vol eq 'v' ? 1 : 0), void => $void ? 1 : 0, setof => $setof ? 1 : 0,
			order => [ grep { $given{$_} } @$names ], args => { map { $names->[$_] => $types->[$_] } 0 .. $#$names } };
	}
	return undef;
}

# POST /rpc/fn with a JSON object of named arguments; method => 'GET' sends
# them as query-string text. The statement has PostgREST's shape: the
# arguments go through json_to_recordset with the parameters' types, so a GET
# argument of type jsonb is the JSON string of the text (as over HTTP).
# An unknown function (or arguments no function takes) answers 404 PGRST202.
sub rpc
{
	my ($self, %r) = @_;
	my $method = uc($r{method} // 'POST');
	my $args = $r{args} // {};
	my $proc = $self->_proc($r{function}, [ keys %$args ], $r{schema});
	if (!$proc)
	{
		return { status => 404, rows => [], headers => {},
			error => { sqlstate => 'PGRST202', code => 'PGRST202',
				message => "Could not find the function $r{function} in the schema cache" } };
	}
	my %types = (%{ $proc->{args} }, %{ $r{types} // {} });
	my $payload = $args;
	if ($method eq 'GET')
	{
		# the query string: every value is text
		$payload = { map { $_ => (defined $args->{$_} && ref $args->{$_} ? $json->encode($args->{$_}) : $args->{$_}) } keys %$args };
		$payload->{$_} = "$payload->{$_}" for grep { defined $payload->{$_} } keys %$payload;
	}
	my $fn = _qi($proc->{schema}) . '.' . _qi($proc->{name});
	my @names = @{ $proc->{order} };
	my $call = join(', ', map { _qi($_) . ' := pgrst_body.' . _qi($_) } @names);
	my $from = @names
	  ? "FROM (SELECT \$1::json AS json_data) pgrst_payload, "
		. "LATERAL (SELECT CASE WHEN json_typeof(pgrst_payload.json_data) = 'array' THEN pgrst_payload.json_data "
		. "ELSE json_build_array(pgrst_payload.json_data) END AS val) pgrst_uniform_json, "
		. "LATERAL (SELECT " . join(', ', map { _qi($_) } @names) . " FROM json_to_recordset(pgrst_uniform_json.val) AS _("
		. join(', ', map { _qi($_) . " $types{$_}" } @names) . ") LIMIT 1) pgrst_body, "
		. "LATERAL (SELECT $fn($call) pgrst_scalar) pgrst_call"
	  : "FROM (SELECT $fn() pgrst_scalar) pgrst_call";
	my $body = $proc->{setof}
	  ? "coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')::text"
	  : "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')::text";
	my $read_only = ($method eq 'GET' || $method eq 'HEAD' || !$proc->{volatile}) ? 1 : 0;
	return $self->request(%r, method => $method, path => "/rpc/$r{function}", read_only => $read_only,
		ok_status => ($proc->{void} ? 204 : 200),
		sql => "WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar $from) "
		  . "SELECT null::bigint AS total_result_set, 1 AS page_total, "
		  . "$body AS body FROM (SELECT * FROM pgrst_source) _postgrest_t",
		params => (@names ? [ $json->encode($payload) ] : []));
}

# Decoded JSON body of a successful helper request.
sub body
{
	my ($res) = @_;
	return undef unless $res->{rows} && @{ $res->{rows} };
	return $json->decode(Encode::encode_utf8($res->{rows}[0]{body}));
}

sub disconnect
{
	my ($self) = @_;
	$_->disconnect for @{ $self->{pool} };
	$self->{pool} = [];
}

require Encode;
1;
