# PostgrestReplay: replays, statement for statement, the transaction that
# PostgREST 12 sends to PostgreSQL for each HTTP request, and maps errors to
# HTTP statuses the way PostgREST does.
#
# For each request, on a connection taken from a pool shared by every
# tenant and role (as PostgREST's pool is):
#   BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY   -- GET/HEAD
#   BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE  -- other methods
#   select set_config('search_path', $1, true), set_config('role', $2, true),
#          set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true),
#          set_config('request.path', $5, true), set_config('request.headers', $6, true),
#          set_config('request.cookies', $7, true)
#   select "lowcode"."pre_request"()
#   <the request's statement>
#   COMMIT   (ROLLBACK after an error)
#
# Usage:
#   my $api = PostgrestReplay->new(node => $node, dbname => 'postgres', pool_size => 2);
#   my $res = $api->request(method => 'GET', path => '/items', claims => {tenant_id => $t, role => 'authenticated'},
#                           sql => 'select * from items', params => []);
#   $res->{status}  # 200, or the HTTP status PostgREST would answer
#   $res->{rows}    # array of hashes (the statement's result), on success
#   $res->{error}   # {sqlstate, code, message, details, hint}, on failure
#   $res->{headers} # response headers from a PGRST error
# Option code => sub { my ($dbh) = @_; ...; return \@rows } runs custom steps as
# the request's statement (for COPY and the like).
# Helpers build PostgREST-shaped statements: get(), insert(), update(), delete(), rpc().
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
		schemas => $o{schemas} // ['lowcode', 'public'],
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
	my $read_only = ($method eq 'GET' || $method eq 'HEAD');
	my %headers = (%{ $r{headers} // {} });
	$headers{authorization} = 'Bearer <verified>' if $claims && !exists $headers{authorization};

	my $search_path = join(', ', map { qq{"$_"} } @{ $self->{schemas} });
	my @steps = (
		[ 'BEGIN ISOLATION LEVEL READ COMMITTED ' . ($read_only ? 'READ ONLY' : 'READ WRITE'), [] ],
		[
			q{select set_config('search_path', $1, true), set_config('role', $2, true), }
			  . q{set_config('request.jwt.claims', $3, true), set_config('request.method', $4, true), }
			  . q{set_config('request.path', $5, true), set_config('request.headers', $6, true), }
			  . q{set_config('request.cookies', $7, true)},
			[
				$search_path, $role,
				($claims ? $json->encode($claims) : ''),
				$method, ($r{path} // '/'),
				$json->encode(\%headers),
				$json->encode($r{cookies} // {})
			]
		],
		[ $r{pre_request} // q{select "lowcode"."pre_request"()}, [] ],
	);
	push @steps, [ $r{sql}, $r{params} // [] ] if defined $r{sql};

	my $result = { status => ($method eq 'POST' ? 201 : 200), rows => [] };
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
			$result->{status} = _status($err, defined $claims);
			$result->{error} = $err;
			$result->{headers} = $err->{headers} // {};
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
			$result->{status} = _status($err, defined $claims);
			$result->{error} = $err;
			$result->{rows} = [];
			return $result;
		}
		$result->{rows} = $rows;
	}
	if (!$dbh->do('COMMIT'))
	{
		my $err = _error($dbh);
		$dbh->do('ROLLBACK');
		$result->{status} = _status($err, defined $claims);
		$result->{error} = $err;
		$result->{rows} = [];
	}
	return $result;
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
		my $body = eval { $json->decode($e{message}) } // {};
		my $det = eval { $json->decode($e{details} // '{}') } // {};
		$e{pgrst_status} = $det->{status};
		$e{headers} = $det->{headers} // {};
		$e{code} = $body->{code};
		$e{message} = $body->{message};
		$e{details} = $body->{details};
		$e{hint} = $body->{hint};
	}
	return \%e;
}

# PostgREST 12's mapping from SQLSTATE to HTTP status.
sub _status
{
	my ($e, $authenticated) = @_;
	my $s = $e->{sqlstate} // '';
	return $e->{pgrst_status} // 500 if $s eq 'PGRST';
	return $1 + 0 if $s =~ /^PT(\d\d\d)$/;
	my %exact = (
		'23503' => 409, '23505' => 409, '25006' => 405, 'P0001' => 400,
		'42883' => 404, '42P01' => 404, '42P17' => 500,
	);
	return $exact{$s} if exists $exact{$s};
	return ($authenticated ? 403 : 401) if $s eq '42501';
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

# POST /rpc/fn with a JSON object of named arguments (GET for read-only calls).
sub rpc
{
	my ($self, %r) = @_;
	my $fn = _rel($r{function});
	my $args = $r{args} // {};
	my $named = join(', ', map { _qi($_) . ' := ' . "(\$1::json->>'$_')" . ($r{types}{$_} ? "::$r{types}{$_}" : '') } sort keys %$args);
	return $self->request(%r, method => $r{method} // 'POST', path => "/rpc/$r{function}",
		sql => "WITH pgrst_source AS (SELECT $fn($named) AS pgrst_scalar) "
		  . "SELECT null::bigint AS total_result_set, 1 AS page_total, "
		  . "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')::text AS body FROM (SELECT * FROM pgrst_source) _postgrest_t",
		params => [ $json->encode($args) ]);
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
