# lowcode.max_database_workers: databases beyond the cap get no worker (a
# WARNING says so), and get one as soon as a slot is free.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use LowcodeTest;

my $node = lowcode_node('cap', conf => "lowcode.max_database_workers = 1\nlowcode.sweep_interval = '200ms'\n");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'postgres'"),
	'database "postgres" has the one worker');

$node->safe_psql('postgres', 'CREATE DATABASE second');
$node->safe_psql('second', 'CREATE EXTENSION pg_lowcode');
ok($node->wait_for_log(qr/lowcode\.max_database_workers \(1\) reached; database "second" waits/),
	'the launcher warns that the cap is reached');
sleep 2;
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker'"), 1,
	'still one worker only');

# Free the slot: the waiting database gets the worker.
$node->safe_psql('postgres', 'DROP EXTENSION pg_lowcode');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_lowcode worker' AND datname = 'second'"),
	'once the slot is free, the waiting database gets its worker');

$node->stop;
done_testing();
