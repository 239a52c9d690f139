# ALTER EXTENSION pg_lowcode UPDATE from 0.1.0 gives exactly what a fresh
# install of the current version gives, and keeps the data made before it.
#
# Database "upgraded": CREATE EXTENSION ... VERSION '0.1.0' (the frozen
# sql/pg_lowcode--0.1.0.sql), a tenant, a tenant table, a registered schema, a
# submission and a session, then ALTER EXTENSION pg_lowcode UPDATE.
# Database "fresh": CREATE EXTENSION pg_lowcode (the default version).
# Both are described by catalog queries (every object that belongs to the
# extension, its definition, ACLs, comments, the sub-objects of its tables, the
# extension's configuration and the rows the install script seeds), by name and
# definition only (OIDs differ between databases), and the two descriptions
# must be identical; on failure the test prints a unified diff of them.
use strict;
use warnings;

use Digest::MD5;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

# The install scripts of released versions are frozen: each is what its version
# installed, and editing one would make this test compare against something no
# database ever had.
my %frozen_md5 = (
	'0.1.0' => 'f3914a4038daa07d2901bf1ea98d3353',
	'0.2.0' => '77a7fa23c74fbd9bbf4f4b836c7a48a5');
for my $v (sort keys %frozen_md5)
{
	my $frozen = "$ENV{LOWCODE_TOP}/sql/pg_lowcode--$v.sql";
	open(my $frozen_fh, '<:raw', $frozen) or die "cannot open $frozen: $!";
	is(Digest::MD5->new->addfile($frozen_fh)->hexdigest, $frozen_md5{$v},
		"sql/pg_lowcode--$v.sql is unchanged (frozen)");
	close $frozen_fh;
}

my $node = lowcode_node('upgrade', no_extension => 1);

my $default_version = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'pg_lowcode'});
my @versions = split /\n/, $node->safe_psql('postgres',
	q{SELECT version FROM pg_available_extension_versions WHERE name = 'pg_lowcode' ORDER BY version});
ok((grep { $_ eq '0.1.0' } @versions), "version 0.1.0 is installable (available: @versions)");
isnt($default_version, '0.1.0', "the default version ($default_version) is newer than 0.1.0");
# Each release adds one upgrade script from the previous one, so the way from
# the oldest release is the chain of them, ending at the default version.
like($node->safe_psql('postgres', qq{
	SELECT path FROM pg_extension_update_paths('pg_lowcode')
	 WHERE source = '0.1.0' AND target = '$default_version'}),
	qr/^0\.1\.0--0\.2\.0(--[0-9.]+)*--\Q$default_version\E$/,
	"upgrade scripts lead from 0.1.0 through 0.2.0 to $default_version");

# --- database "upgraded": 0.1.0 with data, then UPDATE -----------------------
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('upgraded', q{CREATE EXTENSION pg_lowcode VERSION '0.1.0'});
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_lowcode'}), '0.1.0',
	'0.1.0 installed');

my $t = $node->safe_psql('upgraded', q{SELECT lowcode.create_tenant('upgrade-t', 'Upgrade tenant', 'pro')});
my $ctx = qq{SET "request.jwt.claims" TO '{"tenant_id": "$t", "sub": "uma"}';};
$node->safe_psql('upgraded', q{
	CREATE TABLE public.notes (id int PRIMARY KEY, body text);
	SELECT lowcode.make_tenant_table('public.notes');});
$node->safe_psql('upgraded', $ctx . q{
	INSERT INTO public.notes (id, body) VALUES (1, 'before the upgrade');
	SELECT lowcode.register_schema('visit', '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}');
	SELECT lowcode.submit('visit', '{"city": "Lyon"}');});
my ($sid, $tok) = split / /, $node->safe_psql('upgraded', qq{SELECT session_id || ' ' || token FROM lowcode.create_session('$t', 'uma')});

$node->safe_psql('upgraded', 'ALTER EXTENSION pg_lowcode UPDATE');
is($node->safe_psql('upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_lowcode'}),
	$default_version, "ALTER EXTENSION UPDATE leads to $default_version");

# --- database "fresh": the current version ----------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_lowcode');

# --- compare ----------------------------------------------------------------
# One row (key, description) per item; keys name the object, descriptions hold
# its definition.  Objects made by users (public.notes, its policies and
# triggers) are not the extension's and are left out.
my $describe = <<'SQL';
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'pg_lowcode'),
m AS (
  SELECT d.classid, d.objid, d.objsubid, o.type, o.identity
    FROM pg_depend d, ext, LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) o
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (
  SELECT c.*, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid IN (SELECT objid FROM m WHERE classid = 'pg_class'::regclass)),
-- the members and the parts of member relations (columns are sub-objects of
-- their relation): what comments and initial privileges may belong to
owned(classid, objid) AS (
  SELECT classid, objid FROM m
  UNION ALL SELECT 'pg_constraint'::regclass::oid, oid FROM pg_constraint WHERE conrelid IN (SELECT oid FROM rels)
  UNION ALL SELECT 'pg_class'::regclass::oid, indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM rels)
  UNION ALL SELECT 'pg_trigger'::regclass::oid, oid FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM rels)
  UNION ALL SELECT 'pg_policy'::regclass::oid, oid FROM pg_policy WHERE polrelid IN (SELECT oid FROM rels)
  UNION ALL SELECT 'pg_rewrite'::regclass::oid, oid FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM rels)),
items(k, v) AS (
  -- every member of the extension
  SELECT 'member ' || type || ' ' || identity, '' FROM m
  -- functions, procedures, aggregates
  UNION ALL
  SELECT 'function ' || m.identity, concat_ws(E'\n',
         'kind=' || p.prokind::text, 'language=' || l.lanname, 'owner=' || pg_get_userbyid(p.proowner),
         'security_definer=' || p.prosecdef, 'volatility=' || p.provolatile::text, 'strict=' || p.proisstrict,
         'parallel=' || p.proparallel::text, 'leakproof=' || p.proleakproof, 'cost=' || p.procost, 'rows=' || p.prorows,
         'config=' || coalesce(p.proconfig::text, '-'), 'acl=' || coalesce(p.proacl::text, '-'),
         'arguments=' || pg_get_function_arguments(p.oid), 'result=' || coalesce(pg_get_function_result(p.oid), '-'),
         CASE WHEN p.prokind = 'a' THEN
           (SELECT format('aggregate kind=%s transfn=%s finalfn=%s combinefn=%s stype=%s initval=%s',
                          a.aggkind::text, a.aggtransfn, a.aggfinalfn, a.aggcombinefn, format_type(a.aggtranstype, NULL), a.agginitval)
              FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
         ELSE pg_get_functiondef(p.oid) END)
    FROM m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
    JOIN pg_language l ON l.oid = p.prolang
  -- relations: tables, views, sequences, ...
  UNION ALL
  SELECT 'relation ' || r.qname, concat_ws(E'\n',
         'kind=' || r.relkind::text, 'persistence=' || r.relpersistence::text, 'owner=' || pg_get_userbyid(r.relowner),
         'rowsecurity=' || r.relrowsecurity, 'forcerowsecurity=' || r.relforcerowsecurity,
         'acl=' || coalesce(r.relacl::text, '-'), 'options=' || coalesce(r.reloptions::text, '-'),
         'replident=' || r.relreplident::text, 'ispartition=' || r.relispartition,
         'partkey=' || coalesce(pg_get_partkeydef(r.oid), '-'),
         'tablespace=' || coalesce((SELECT spcname FROM pg_tablespace WHERE oid = r.reltablespace), '-'),
         CASE WHEN r.relkind IN ('v', 'm') THEN 'definition=' || pg_get_viewdef(r.oid, true) END,
         CASE WHEN r.relkind = 'S' THEN
           (SELECT format('sequence type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',
                          format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                          s.seqcache, s.seqcycle,
                          (SELECT string_agg(quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(ta.attname), ',')
                             FROM pg_depend dd JOIN pg_class tc ON tc.oid = dd.refobjid
                             JOIN pg_namespace tn ON tn.oid = tc.relnamespace
                             JOIN pg_attribute ta ON ta.attrelid = dd.refobjid AND ta.attnum = dd.refobjsubid
                            WHERE dd.classid = 'pg_class'::regclass AND dd.objid = r.oid
                              AND dd.refclassid = 'pg_class'::regclass AND dd.deptype IN ('a', 'i')))
              FROM pg_sequence s WHERE s.seqrelid = r.oid) END)
    FROM rels r
  -- their columns, in order
  UNION ALL
  SELECT 'column ' || r.qname || '.' || quote_ident(a.attname), concat_ws(E'\n',
         'position=' || rank() OVER (PARTITION BY r.oid ORDER BY a.attnum),
         'type=' || format_type(a.atttypid, a.atttypmod), 'notnull=' || a.attnotnull,
         'default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-'),
         'identity=' || a.attidentity::text, 'generated=' || a.attgenerated::text,
         'collation=' || coalesce((SELECT collname FROM pg_collation WHERE oid = a.attcollation), '-'),
         'storage=' || a.attstorage::text, 'compression=' || a.attcompression::text,
         'acl=' || coalesce(a.attacl::text, '-'),
         -- pg_attver (attribute version, set by this PostgreSQL build) differs by database: left out
         'options=' || coalesce((SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg!_attver=%' ESCAPE '!')::text, '-'))
    FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  -- constraints of tables and of domains
  UNION ALL
  SELECT 'constraint ' || coalesce(r.qname, format_type(c.contypid, NULL)) || ' ' || quote_ident(c.conname),
         concat_ws(E'\n', 'type=' || c.contype::text, 'definition=' || pg_get_constraintdef(c.oid, true),
                   'deferrable=' || c.condeferrable, 'deferred=' || c.condeferred,
                   'validated=' || c.convalidated, 'noinherit=' || c.connoinherit)
    FROM pg_constraint c LEFT JOIN rels r ON r.oid = c.conrelid
   WHERE r.oid IS NOT NULL
      OR c.contypid IN (SELECT objid FROM m WHERE classid = 'pg_type'::regclass)
  -- indexes
  UNION ALL
  SELECT 'index ' || r.qname || ' ' || quote_ident(ic.relname),
         concat_ws(E'\n', pg_get_indexdef(i.indexrelid), 'clustered=' || i.indisclustered,
                   'replident=' || i.indisreplident, 'valid=' || i.indisvalid)
    FROM rels r JOIN pg_index i ON i.indrelid = r.oid JOIN pg_class ic ON ic.oid = i.indexrelid
  -- triggers
  UNION ALL
  SELECT 'trigger ' || r.qname || ' ' || quote_ident(tg.tgname),
         pg_get_triggerdef(tg.oid, true) || E'\nenabled=' || tg.tgenabled::text
    FROM rels r JOIN pg_trigger tg ON tg.tgrelid = r.oid AND NOT tg.tgisinternal
  -- row-level security policies
  UNION ALL
  SELECT 'policy ' || quote_ident(p.schemaname) || '.' || quote_ident(p.tablename) || ' ' || quote_ident(p.policyname),
         concat_ws(E'\n', 'permissive=' || p.permissive, 'roles=' || (SELECT string_agg(x, ',' ORDER BY x) FROM unnest(p.roles) x),
                   'command=' || p.cmd, 'using=' || coalesce(p.qual, '-'), 'with_check=' || coalesce(p.with_check, '-'))
    FROM pg_policies p JOIN rels r ON r.relname = p.tablename AND r.relnamespace = p.schemaname::regnamespace
  -- rewrite rules other than views' own
  UNION ALL
  SELECT 'rule ' || r.qname || ' ' || quote_ident(rw.rulename), pg_get_ruledef(rw.oid, true) || E'\nenabled=' || rw.ev_enabled::text
    FROM rels r JOIN pg_rewrite rw ON rw.ev_class = r.oid AND rw.rulename <> '_RETURN'
  -- types: enums, domains, composites, ranges
  UNION ALL
  SELECT 'type ' || m.identity, concat_ws(E'\n',
         'kind=' || t.typtype::text, 'owner=' || pg_get_userbyid(t.typowner), 'acl=' || coalesce(t.typacl::text, '-'),
         'base=' || CASE WHEN t.typbasetype <> 0 THEN format_type(t.typbasetype, t.typtypmod) ELSE '-' END,
         'notnull=' || t.typnotnull, 'default=' || coalesce(t.typdefault, '-'),
         'labels=' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '-'),
         'attributes=' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                      FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '-'))
    FROM m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
  -- schemas
  UNION ALL
  SELECT 'schema ' || quote_ident(n.nspname),
         'owner=' || pg_get_userbyid(n.nspowner) || E'\nacl=' || coalesce(n.nspacl::text, '-')
    FROM m JOIN pg_namespace n ON m.classid = 'pg_namespace'::regclass AND n.oid = m.objid
  -- event triggers
  UNION ALL
  SELECT 'event trigger ' || quote_ident(e.evtname), concat_ws(E'\n',
         'event=' || e.evtevent, 'owner=' || pg_get_userbyid(e.evtowner), 'function=' || e.evtfoid::regprocedure::text,
         'enabled=' || e.evtenabled::text, 'tags=' || coalesce(e.evttags::text, '-'))
    FROM m JOIN pg_event_trigger e ON m.classid = 'pg_event_trigger'::regclass AND e.oid = m.objid
  -- privileges recorded at creation (pg_dump dumps only the differences from these)
  UNION ALL
  SELECT 'initial privileges ' || o.type || ' ' || o.identity, ip.privtype::text || ' ' || ip.initprivs::text
    FROM pg_init_privs ip, LATERAL pg_identify_object(ip.classoid, ip.objoid, ip.objsubid) o
   WHERE (ip.classoid, ip.objoid) IN (SELECT classid, objid FROM owned)
  -- comments
  UNION ALL
  SELECT 'comment ' || o.type || ' ' || o.identity, d.description
    FROM pg_description d, LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
   WHERE (d.classoid, d.objoid) IN (SELECT classid, objid FROM owned)
  -- default privileges
  UNION ALL
  SELECT 'default privileges ' || coalesce(pg_get_userbyid(da.defaclrole), '-') || ' '
         || coalesce(da.defaclnamespace::regnamespace::text, '-') || ' ' || da.defaclobjtype::text, da.defaclacl::text
    FROM pg_default_acl da
  -- the extension itself and its configuration tables (what pg_dump dumps)
  UNION ALL
  SELECT 'extension ' || e.extname, concat_ws(E'\n', 'version=' || e.extversion, 'schema=' || e.extnamespace::regnamespace::text,
         'relocatable=' || e.extrelocatable, 'owner=' || pg_get_userbyid(e.extowner))
    FROM pg_extension e, ext WHERE e.oid = ext.oid
  UNION ALL
  SELECT 'extension config ' || cfg.tbl::regclass::text, 'condition=' || coalesce(cfg.cond, '-')
    FROM pg_extension e, ext,
         LATERAL unnest(e.extconfig, e.extcondition) AS cfg(tbl, cond)
   WHERE e.oid = ext.oid
)
SELECT json_agg(json_build_array(k, v) ORDER BY k, v) FROM items
SQL

# Rows of the tables the install script fills (those that hold rows right
# after a fresh install), compared as JSON.
my @seeded = split /\n/, $node->safe_psql('fresh', q{
	SELECT c.oid::regclass::text
	  FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
	 WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_extension'::regclass
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_lowcode')
	   AND d.deptype = 'e' AND c.relkind = 'r'
	   AND (xpath('/row/n/text()', query_to_xml(format('SELECT EXISTS (SELECT FROM %s) AS n', c.oid::regclass), false, true, '')))[1]::text = 'true'
	 ORDER BY 1});
ok(scalar(@seeded) >= 2, "the install script seeds tables: @seeded");

sub describe
{
	my ($db) = @_;
	my $items = decode_json($node->safe_psql($db, $describe));
	for my $tbl (@seeded)
	{
		# the channel key is random in every install: only its shape is compared
		my $rows = $tbl eq 'lowcode.event_secret'
		  ? $node->safe_psql($db, "SELECT string_agg('one key of ' || length(key) || ' bytes', ',') FROM $tbl")
		  : $node->safe_psql($db, "SELECT coalesce(string_agg(to_jsonb(x)::text, E'\\n' ORDER BY to_jsonb(x)::text), '') FROM $tbl x");
		push @$items, [ "seeded rows $tbl", $rows ];
	}
	return join('', map { "== $_->[0]\n$_->[1]\n" } sort { $a->[0] cmp $b->[0] or $a->[1] cmp $b->[1] } @$items);
}

my $fresh = describe('fresh');
my $upgraded = describe('upgraded');
my (%members, %parts);
$members{$_}++ for $fresh =~ /^== member (event trigger|\S+)/mg;
$parts{$_}++ for $fresh =~ /^== (column|constraint|index|trigger|policy|comment|initial privileges|seeded rows) /mg;
ok(($members{function} // 0) > 50 && ($members{table} // 0) > 10
	  && (grep { ($parts{$_} // 0) > 0 } keys %parts) == 8,
	'the description covers the extension: members ('
	  . join(', ', map { "$members{$_} ${_}s" } sort keys %members) . '), parts ('
	  . join(', ', map { "$parts{$_} ${_}" } sort keys %parts) . ')');

my $same = $fresh eq $upgraded;
ok($same, "an install upgraded from 0.1.0 is identical to a fresh install of $default_version");
if (!$same)
{
	my $dir = PostgreSQL::Test::Utils::tempdir();
	for ([ fresh => $fresh ], [ upgraded => $upgraded ])
	{
		open(my $fh, '>', "$dir/$_->[0].txt") or die $!;
		print $fh $_->[1];
		close $fh;
	}
	my $diff = `diff -u $dir/fresh.txt $dir/upgraded.txt 2>&1`;
	diag("differences (- fresh install, + upgraded from 0.1.0):\n$diff");
}

# --- the data made before the upgrade, and the extension after it ------------
# (as a role without BYPASSRLS: a superuser sees every row)
$node->safe_psql('upgraded', q{CREATE ROLE upgrade_reader NOLOGIN;
	GRANT USAGE ON SCHEMA lowcode TO upgrade_reader; GRANT SELECT ON public.notes TO upgrade_reader;});
is($node->safe_psql('upgraded', $ctx . q{SET ROLE upgrade_reader; SELECT string_agg(body, ',') FROM public.notes}),
	'before the upgrade', 'tenant table rows kept, still visible to their tenant');
my $t3 = $node->safe_psql('upgraded', q{SELECT lowcode.create_tenant('other-t')});
is($node->safe_psql('upgraded', qq{SET "request.jwt.claims" TO '{"tenant_id": "$t3"}'; SET ROLE upgrade_reader;
	SELECT count(*) FROM public.notes}),
	'0', 'and not to another tenant');
is($node->safe_psql('upgraded', q{SELECT slug || '/' || tier FROM lowcode.tenants WHERE slug = 'upgrade-t'}), 'upgrade-t/pro', 'tenant kept');
is($node->safe_psql('upgraded', $ctx . q{SELECT string_agg(subject || '/' || version || '/' || status || '/' || data::text, ',') FROM lowcode.submissions}),
	'visit/1/submitted/{"city": "Lyon"}', 'submission kept');
is($node->safe_psql('upgraded', $ctx . q{SELECT lowcode.validate('visit', '{"city": 1}') -> 'errors' -> 0 ->> 'instancePath'}),
	'/city', 'the schema registered before the upgrade validates after it');
# (issue 21 / 13.7: ids are time-ordered, lowcode.new_id(), no longer a shared sequence)
my $new_sub = $node->safe_psql('upgraded', $ctx . q{SELECT lowcode.submit('visit', '{"city": "Nice"}') ->> 'id'});
is($node->safe_psql('upgraded', $ctx . qq{SELECT count(*) FROM lowcode.submissions WHERE id < $new_sub}),
	'1', 'a new submission is numbered after the old one');
is($node->safe_psql('upgraded', $ctx . q{SELECT lowcode.register_schema('visit', '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "title": "Visit"}')}),
	'2', 'registration goes on with version 2');
is($node->safe_psql('upgraded', qq{
	BEGIN;
	SELECT set_config('request.jwt.claims', json_build_object('sid', '$sid', 'tenant_id', '$t',
	                  'sid_proof', lowcode.session_proof('$tok'))::text, true) IS NULL;
	SELECT lowcode.pre_request();
	SELECT lowcode.current_session_id() || ' ' || lowcode.current_tenant();
	COMMIT;}),
	"f\n\n$sid $t", 'a session created before the upgrade is accepted by pre_request() after it, with its proof (issue 13)');
like($node->safe_psql('upgraded', qq{SELECT token FROM lowcode.create_session('$t', 'vic')}),
	qr/^lcs_/, 'a new session can be created');
my $t2 = $node->safe_psql('upgraded', q{SELECT lowcode.create_tenant('after-upgrade')});
like($t2, qr/^[0-9a-f-]{36}$/, 'a new tenant can be created');
is($node->safe_psql('upgraded', q{SELECT lowcode.jsonlogic_apply('{"+": [1, 2]}', 'null')::text}),
	'3', 'rules work');

# pg_dump of the upgraded database restores into a fresh one (pg_dump writes a
# plain CREATE EXTENSION, which installs the current version, then the rows of
# the configuration tables the upgrade kept registered).
my $dump = $node->basedir . '/upgraded.sql';
$node->command_ok([ 'pg_dump', '-d', 'upgraded', '-f', $dump ], 'pg_dump of the upgraded database');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'restored', '-f', $dump ], 'restore');
is($node->safe_psql('restored', $ctx . q{SELECT (SELECT count(*) FROM lowcode.submissions) || '/' || (SELECT count(*) FROM lowcode.sessions)
	|| '/' || (SELECT string_agg(slug, ',' ORDER BY slug) FROM lowcode.tenants) || '/' || (SELECT string_agg(body, ',') FROM public.notes)}),
	'2/2/after-upgrade,other-t,upgrade-t/before the upgrade', 'restored: submissions, sessions, tenants, tenant rows');
is($node->safe_psql('restored', $ctx . q{SELECT lowcode.validate('visit', '{}') -> 'errors' -> 0 ->> 'keyword'}),
	'required', 'restored: validation works');

# DROP EXTENSION after the upgrade removes everything (CASCADE: public.notes's policies depend on it).
$node->safe_psql('upgraded', 'DROP EXTENSION pg_lowcode CASCADE');
is($node->safe_psql('upgraded', q{
	SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'lowcode') + (SELECT count(*) FROM pg_event_trigger)
	     + (SELECT count(*) FROM pg_proc WHERE probin LIKE '%pg_lowcode%') + (SELECT count(*) FROM pg_policy)}),
	'0', 'DROP EXTENSION after the upgrade leaves no schema, function, event trigger or policy');
is($node->safe_psql('upgraded', q{SELECT count(*) FROM public.notes}), '1', 'and keeps the users\' data');

$node->stop;
done_testing();
