# PostgrestHttp: a real PostgREST in front of a PostgreSQL::Test::Cluster node,
# for HTTP end-to-end TAP tests.
#
# It writes PostgREST's configuration file, starts the binary on 127.0.0.1 on a
# free port (plus a free admin port, whose /ready tells when the schema cache
# is loaded), mints HS256 JWTs with the configured secret, sends requests with
# HTTP::Tiny and returns status, headers and the decoded body. PostgREST is
# stopped by stop(), and in any case when the test ends.
#
# The binary: $ENV{LOWCODE_POSTGREST}, else $ENV{LOWCODE_SHARED}/bin/postgrest
# (scripts/test.sh sets LOWCODE_SHARED), else `postgrest` on the PATH.
#
# Usage:
#   use PostgrestHttp;
#   PostgrestHttp->setup_roles($node);        # authenticator, anon, authenticated (as PostgrestReplay)
#   PostgrestHttp->create_api_schema($node);  # schema api of scripts/api_schema.sql (optional)
#   my $pg = PostgrestHttp->new(node => $node,
#       schemas => ['api'],                   # db-schemas (the first is the default profile)
#       extra_search_path => ['public', 'lowcode'],
#       conf => { 'db-pool' => 4 });          # any other configuration key
#   $pg->start;
#   my $jwt = $pg->jwt({ role => 'authenticated', tenant_id => $t });
#   my $res = $pg->request(GET => '/notes?id=eq.1', jwt => $jwt);
#   my $res = $pg->request(POST => '/rpc/submit', claims => { role => ..., tenant_id => ... },
#       body => { subject => 'leave', data => {...} }, headers => { Prefer => 'return=representation' });
#   $res->{status}     # 200, 201, 204, 401, ...
#   $res->{headers}    # HTTP::Tiny's: lower-case names ('www-authenticate', 'retry-after', 'content-type')
#   $res->{body}       # decoded JSON (undef for an empty or non-JSON body)
#   $res->{content}    # the raw body
#   $pg->reload_schema;  # NOTIFY pgrst, 'reload schema' and wait until PostgREST has reloaded
#   $pg->stop;
#
# Options of new(): node (required), dbname ('postgres'), user ('authenticator'),
# schemas (['api']), extra_search_path (['public']), anon_role ('anon'),
# pre_request ('lowcode.pre_request'; undef for none), jwt_secret (a 40-character
# secret), pool (db-pool, 4), conf (hash of further keys), binary.
# request(): claims => HASH mints a JWT for the call; jwt => TEXT sends that
# token; neither: no Authorization header (PostgREST's anon role). body => a
# reference is sent as JSON, a string as is. query => HASH is appended as a
# query string (values URL-encoded).
package PostgrestHttp;

use strict;
use warnings;

use Carp;
use Digest::SHA qw(hmac_sha256);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX ':sys_wait_h';
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Utils;

my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my @running;    # started instances, stopped at the end of the test

# The PostgREST binary, or undef.
sub binary
{
	my @candidates = grep { defined } ($ENV{LOWCODE_POSTGREST},
		defined $ENV{LOWCODE_SHARED} ? "$ENV{LOWCODE_SHARED}/bin/postgrest" : undef,
		defined $ENV{LOWCODE_TOP} ? "$ENV{LOWCODE_TOP}/../shared/bin/postgrest" : undef);
	for my $c (@candidates) { return $c if -x $c; }
	for my $dir (split /:/, $ENV{PATH} // '') { return "$dir/postgrest" if -x "$dir/postgrest"; }
	return undef;
}

# PostgREST's usual roles: authenticator (login, noinherit, switches to the
# others), anon (requests without JWT) and authenticated (requests with one),
# granted what pg_lowcode says a tenant user needs.
sub setup_roles
{
	my ($class, $node, $dbname) = @_;
	$node->safe_psql($dbname // 'postgres', q{
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

# The API schema of scripts/api_schema.sql (the endpoints a tenant may call),
# granted to the given roles (default authenticated).
sub create_api_schema
{
	my ($class, $node, %o) = @_;
	my $top = $ENV{LOWCODE_TOP} // croak 'PostgrestHttp: LOWCODE_TOP is not set';
	my $sql = PostgreSQL::Test::Utils::slurp_file("$top/scripts/api_schema.sql");
	$node->safe_psql($o{dbname} // 'postgres', $sql,
		extra_params => [ '-v', 'api_roles=' . ($o{roles} // 'authenticated') ]);
}

# A TCP port on 127.0.0.1 that nothing listens on now.
sub free_port
{
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	  or croak "PostgrestHttp: no free port: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

sub new
{
	my ($class, %o) = @_;
	croak 'PostgrestHttp->new needs node' unless $o{node};
	my $self = bless {
		node => $o{node},
		dbname => $o{dbname} // 'postgres',
		user => $o{user} // 'authenticator',
		schemas => $o{schemas} // ['api'],
		extra_search_path => $o{extra_search_path} // ['public'],
		anon_role => exists $o{anon_role} ? $o{anon_role} : 'anon',
		pre_request => exists $o{pre_request} ? $o{pre_request} : 'lowcode.pre_request',
		jwt_secret => $o{jwt_secret} // 'pg_lowcode-test-secret-0123456789abcdef',
		pool => $o{pool} // 4,
		conf => $o{conf} // {},
		binary => $o{binary} // binary(),
		name => $o{name} // $o{node}->name,
		http => HTTP::Tiny->new(timeout => 30, keep_alive => 1),
	}, $class;
	croak 'PostgrestHttp: no PostgREST binary (set LOWCODE_SHARED or LOWCODE_POSTGREST, or put postgrest on the PATH)'
	  unless $self->{binary};
	return $self;
}

sub url { my ($self) = @_; return "http://127.0.0.1:$self->{port}"; }
sub port { $_[0]{port} }
sub log_file { $_[0]{log} }
sub jwt_secret { $_[0]{jwt_secret} }

sub _quote_conf { my $v = shift; $v =~ s/\\/\\\\/g; $v =~ s/"/\\"/g; return qq{"$v"}; }

sub _write_conf
{
	my ($self) = @_;
	my $node = $self->{node};
	# libpq URI: the node's socket directory (or TCP host) as the host parameter.
	my $host = $node->host;
	$host =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord($1))/ge;
	my %c = (
		'db-uri' => sprintf('postgresql://%s@/%s?host=%s&port=%d', $self->{user}, $self->{dbname}, $host, $node->port),
		'db-schemas' => join(', ', @{ $self->{schemas} }),
		'db-extra-search-path' => join(', ', @{ $self->{extra_search_path} }),
		'db-pool' => $self->{pool},
		'db-channel-enabled' => 'true',
		'db-config' => 'false',
		'jwt-secret' => $self->{jwt_secret},
		'server-host' => '127.0.0.1',
		'server-port' => $self->{port},
		'admin-server-port' => $self->{admin_port},
		'log-level' => 'info',
	);
	$c{'db-anon-role'} = $self->{anon_role} if defined $self->{anon_role};
	$c{'db-pre-request'} = $self->{pre_request} if defined $self->{pre_request};
	%c = (%c, %{ $self->{conf} });
	my $path = "$PostgreSQL::Test::Utils::tmp_check/postgrest_$self->{name}_$self->{port}.conf";
	open(my $fh, '>', $path) or croak "PostgrestHttp: cannot write $path: $!";
	for my $k (sort keys %c)
	{
		next unless defined $c{$k};
		my $v = $c{$k};
		print $fh "$k = ", ($v =~ /^(?:\d+|true|false)$/ ? $v : _quote_conf($v)), "\n";
	}
	close $fh;
	return $path;
}

# Start PostgREST and wait until it serves (its admin /ready answers 200).
sub start
{
	my ($self, %o) = @_;
	croak 'PostgrestHttp: already running' if $self->{pid};
	$self->{port} = free_port();
	$self->{admin_port} = free_port();
	$self->{admin_port} = free_port() while $self->{admin_port} == $self->{port};
	$self->{conf_file} = $self->_write_conf;
	$self->{log} = "$PostgreSQL::Test::Utils::log_path/postgrest_$self->{name}_$self->{port}.log";
	my $pid = fork();
	croak "PostgrestHttp: fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $self->{log}) or POSIX::_exit(127);
		open(STDERR, '>&', \*STDOUT);
		# one capability for the runtime, as scripts/common.sh starts it (docs/postgrest.md, "Performance")
		$ENV{GHCRTS} = '-N1' unless exists $ENV{GHCRTS};
		exec($self->{binary}, $self->{conf_file}) or POSIX::_exit(127);
	}
	$self->{pid} = $pid;
	push @running, $self;
	$self->wait_ready(%o) or croak "PostgrestHttp: PostgREST did not become ready; log:\n" . $self->log_tail;
	return $self;
}

# Poll the admin server's /ready until it answers 200 (schema cache loaded and
# connection pool usable). Returns false on timeout or if PostgREST exited.
sub wait_ready
{
	my ($self, %o) = @_;
	my $deadline = time + ($o{timeout} // $PostgreSQL::Test::Utils::timeout_default);
	my $http = HTTP::Tiny->new(timeout => 2);
	while (time < $deadline)
	{
		if (waitpid($self->{pid}, WNOHANG) == $self->{pid})
		{
			$self->{pid} = undef;    # PostgREST exited (bad configuration, no database...)
			@running = grep { $_ != $self } @running;
			return 0;
		}
		my $r = $http->get("http://127.0.0.1:$self->{admin_port}/ready");
		return 1 if $r->{status} == 200;
		usleep(50_000);
	}
	return 0;
}

sub log_tail
{
	my ($self, $bytes) = @_;
	return '' unless $self->{log} && -f $self->{log};
	my $text = PostgreSQL::Test::Utils::slurp_file($self->{log});
	$bytes //= 4000;
	return length($text) > $bytes ? substr($text, -$bytes) : $text;
}

# Ask PostgREST to reload its schema cache and wait until it did: NOTIFY on its
# channel, then a request per 100 ms until check->() is true (default: /ready).
sub reload_schema
{
	my ($self, %o) = @_;
	my $before = -s $self->{log} // 0;
	$self->{node}->safe_psql($self->{dbname}, q{NOTIFY pgrst, 'reload schema'});
	my $deadline = time + ($o{timeout} // $PostgreSQL::Test::Utils::timeout_default);
	while (time < $deadline)
	{
		# PostgREST logs "Schema cache loaded" after every (re)load.
		my $log = PostgreSQL::Test::Utils::slurp_file($self->{log});
		last if length($log) > $before && substr($log, $before) =~ /Schema cache loaded/;
		usleep(50_000);
	}
	return $self->wait_ready;
}

sub stop
{
	my ($self) = @_;
	return unless $self->{pid};
	kill 'TERM', $self->{pid};
	my $deadline = time + 10;
	while (time < $deadline && waitpid($self->{pid}, WNOHANG) == 0) { usleep(20_000); }
	if (waitpid($self->{pid}, WNOHANG) == 0) { kill 'KILL', $self->{pid}; waitpid($self->{pid}, 0); }
	$self->{pid} = undef;
	@running = grep { $_ != $self } @running;
}

END
{
	my $rc = $?;
	$_->stop for @running;
	$? = $rc;
}

sub _b64url { my $s = encode_base64(shift, ''); $s =~ tr{+/}{-_}; $s =~ s/=+$//; return $s; }

# An HS256 JWT with these claims, signed with the configured secret (or
# secret => ...). exp => seconds from now adds an "exp" claim.
sub jwt
{
	my ($self, $claims, %o) = @_;
	my %c = %{ $claims // {} };
	$c{exp} = time + $o{exp} if defined $o{exp};
	my $head = _b64url($json->encode({ alg => 'HS256', typ => 'JWT' }));
	my $body = _b64url($json->encode(\%c));
	my $sig = _b64url(hmac_sha256("$head.$body", $o{secret} // $self->{jwt_secret}));
	return "$head.$body.$sig";
}

sub _urlencode { my $s = shift; utf8::encode($s) if utf8::is_utf8($s); $s =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord($1))/ge; return $s; }

# request(METHOD => PATH, %opts): see the header. Returns
# { status, reason, headers, content, body }.
sub request
{
	my ($self, $method, $path, %o) = @_;
	croak 'PostgrestHttp: not running' unless $self->{pid};
	my %h = %{ $o{headers} // {} };
	my $jwt = $o{jwt} // ($o{claims} ? $self->jwt($o{claims}) : undef);
	$h{Authorization} = "Bearer $jwt" if defined $jwt && !grep { lc $_ eq 'authorization' } keys %h;
	my %args = (headers => \%h);
	if (exists $o{body})
	{
		$args{content} = ref $o{body} ? $json->encode($o{body}) : $o{body};
		$h{'Content-Type'} //= 'application/json' unless grep { lc $_ eq 'content-type' } keys %h;
	}
	my $url = $self->url . $path;
	if ($o{query})
	{
		my $q = join('&', map { _urlencode($_) . '=' . _urlencode($o{query}{$_}) } sort keys %{ $o{query} });
		$url .= ($path =~ /\?/ ? '&' : '?') . $q;
	}
	my $r = $self->{http}->request(uc $method, $url, \%args);
	my $res = { status => $r->{status}, reason => $r->{reason}, headers => $r->{headers}, content => $r->{content} // '' };
	$res->{body} = eval { $json->decode($res->{content}) } if length $res->{content};
	$res->{error} = $r->{content} if $r->{status} == 599;    # HTTP::Tiny's own failure (connection refused...)
	return $res;
}

sub get { my ($self, $path, %o) = @_; return $self->request(GET => $path, %o); }
sub post { my ($self, $path, %o) = @_; return $self->request(POST => $path, %o); }
sub patch { my ($self, $path, %o) = @_; return $self->request(PATCH => $path, %o); }
sub delete { my ($self, $path, %o) = @_; return $self->request(DELETE => $path, %o); }

# rpc(NAME, ARGS, %opts): POST /rpc/NAME with ARGS as JSON object (method => 'GET':
# the arguments in the query string).
sub rpc
{
	my ($self, $fn, $args, %o) = @_;
	my $method = uc($o{method} // 'POST');
	return $self->request(GET => "/rpc/$fn", %o, query => $args // {}) if $method eq 'GET';
	return $self->request($method => "/rpc/$fn", %o, body => $args // {});
}

1;
