# fire()'s per-backend caches (src/workflow/workflow_fire.c, issue 19) across
# backends: one session keeps firing events while another changes what it
# compiled or prepared (ALTER TABLE on the governed table, a new definition
# version, re-attaching the table, dropping and re-creating the table); the
# first session's next event follows every change (relcache invalidations
# reach it at its next statement).
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('workflow_cache');
my $psql = $node->installed_command('psql');

sub query { return $node->safe_psql('postgres', $_[0]); }

my $t = query("SELECT lowcode.create_tenant('wf-cache-tap', NULL, 'enterprise')");
my $ctx = qq{SELECT set_config('request.jwt.claims', '{"tenant_id": "$t", "sub": "tap"}', false) IS NOT NULL;};

sub setup_table
{
	query(q{
CREATE TABLE items (id int NOT NULL, state text, n int NOT NULL DEFAULT 0, note text);
SELECT lowcode.make_tenant_table('items');
ALTER TABLE items ADD PRIMARY KEY (tenant_id, id);
SELECT lowcode.attach_workflow('items', 'item');
});
}
setup_table();
query($ctx . q{
SELECT lowcode.register_workflow('item', '{"initial": "idle", "states": {
  "idle": {"on": {"ping": {"actions": [{"type": "set", "fields": {"n": "self.n + 1", "note": "''v1''"}}]},
                  "close": "done"}},
  "done": {"type": "final"}}}');
INSERT INTO items (id) VALUES (1), (2);
});

# session A: one backend for the whole test
my ($in, $out, $err) = ('', '', '');
my $h = IPC::Run::start([ $psql, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr('postgres') ],
	\$in, \$out, \$err);
my $seq = 0;
sub in_a
{
	my ($sql) = @_;
	$sql .= ';' unless $sql =~ /;\s*$/;
	$seq++;
	$out = '';
	$err = '';
	$in .= "$sql\n\\echo __done_${seq}__\n";
	IPC::Run::pump($h) until $out =~ /__done_${seq}__/ || !$h->pumpable;
	note("A: $sql => $out" . ($err ne '' ? " (stderr: $err)" : ''));
	(my $r = $out) =~ s/__done_${seq}__\n?//;
	chomp $r;
	return $err ne '' ? "ERROR: $err" : $r;
}
in_a($ctx);
my $pid = in_a('SELECT pg_backend_pid()');

is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping') -> 'record' ->> 'note'}), 'v1', 'A: version 1');
is(in_a(q{SELECT lowcode.workflow_cache_stats()}), '{"tables": 1, "definitions": 1, "table_plans": 2}',
	'A: the definition and the table\'s plans are cached');

# B: a column added to the governed table
query('ALTER TABLE items ADD COLUMN extra text DEFAULT \'x\'');
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping') -> 'record' ->> 'extra'}), 'x',
	'A: after B\'s ALTER TABLE the record has the new column');
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping') -> 'record' ->> 'n'}), '3', 'A: the counter went on');

# B: a new version; A's instances keep version 1, a new record follows version 2
query($ctx . q{
SELECT lowcode.register_workflow('item', '{"initial": "idle", "states": {
  "idle": {"on": {"ping": {"actions": [{"type": "set", "fields": {"n": "self.n + 10", "note": "''v2''"}}]},
                  "close": "done"}},
  "done": {"type": "final"}}}');
INSERT INTO items (id) VALUES (3);
});
is(in_a(q{SELECT lowcode.workflow_cache_stats() ->> 'definitions'}), '0', 'A: B\'s new version dropped what A compiled');
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping') -> 'record' ->> 'note'}), 'v1',
	'A: an instance of version 1 keeps version 1');
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 3}', 'ping') -> 'record' ->> 'note'}), 'v2',
	'A: a record created after B\'s registration follows version 2');

# B: migrates the instances of version 1
query($ctx . q{SELECT lowcode.migrate_workflow('item', 1)});
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping') ->> 'version'}), '2',
	'A: after B\'s migration the record follows version 2');

# B: drops the table and makes it again (new OID, same name), attached again
query(q{
DELETE FROM lowcode.workflow_instances WHERE rel = 'items'::regclass;
DELETE FROM lowcode.workflow_tables WHERE rel = 'items'::regclass;
DROP TABLE items;
});
setup_table();
query($ctx . q{INSERT INTO items (id, n) VALUES (1, 41)});
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping') -> 'record' ->> 'n'}), '51',
	'A: the re-created table (new OID) is prepared afresh');
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'close') ->> 'to'}), 'done',
	'A: a transition to a final state through the new table');
is(in_a(q{SELECT lowcode.fire('{"table": "items", "id": 1}', 'ping')}) =~ /LW409/ ? 'LW409' : 'other', 'LW409',
	'A: the final state refuses events');
is(in_a('SELECT pg_backend_pid()'), $pid, 'A was one backend throughout');

$in .= "\\q\n";
$h->finish;
$node->stop;
done_testing();
