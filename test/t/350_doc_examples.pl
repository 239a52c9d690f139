# Every SQL example of README.md and docs/*.md runs, as pasted, in the
# database scripts/demo.sh sets up, and fails only where the doc says it does.
#
# The setup is the demo's own steps (scripts/demo.sh): database lowcode_demo
# with pg_lowcode and pg_cron, scripts/demo_roles.sql, scripts/api_schema.sql,
# scripts/demo.sql.  Then README.md and docs/*.md (in file name order) run
# one after the other in that database, each doc in its own psql session
# (as a superuser, as the demo's "psql -U postgres"), its ```sql blocks in
# order, so that a doc may use what its earlier blocks made (psql variables
# set with \gset too), and only what it made itself or the demo made.
#
# The conventions a doc follows (docs/architecture.md, "SQL examples in the
# docs"):
#   - a statement that is meant to fail carries the comment
#       -- ERROR: LG012 ...
#     on its last line or on the comment lines right after it; the test checks
#     the real SQLSTATE against it (and that the error happens);
#   - a ```json block must be JSON (no "..." in it);
#   - a block that cannot run here (Citus only, another server, a shell
#     placeholder), or a JSON block that is a fragment, is preceded by
#       <!-- doc-test: skip REASON -->
#     and the reason is required; the test lists the skipped blocks;
#   - any other error (an SQL error, or a psql error such as \gset without a
#     row) fails the test, with the doc, its line and the message.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(basename);
use IPC::Run;
use JSON::PP;
use LowcodeTest;

my $top = $ENV{LOWCODE_TOP} // '.';
my $db = 'lowcode_demo';

# The SQL and JSON blocks of one Markdown file: ({lang => 'sql' or 'json',
# line => first line of the block's text, text => [lines], skip => reason or
# undef}, ...)
sub sql_blocks
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	my @lines = <$fh>;
	close $fh;
	my (@blocks, $cur, $skip, $fence, $other);
	for my $i (0 .. $#lines)
	{
		my $l = $lines[$i];
		if ($other)    # inside a block of another language
		{
			undef $other if $l =~ /^\s*\Q$other\E\s*$/;
			next;
		}
		if ($cur)
		{
			if ($l =~ /^\s*\Q$fence\E\s*$/) { push @blocks, $cur; undef $cur; next; }
			push @{ $cur->{text} }, $l;
			next;
		}
		if ($l =~ /^\s*<!--\s*doc-test:\s*skip\b\s*(.*?)\s*-->\s*$/)
		{
			$skip = $1;
			die "$path:" . ($i + 1) . ": doc-test: skip needs a reason\n" if $skip eq '';
			next;
		}
		if ($l =~ /^\s*(```+|~~~+)\s*(\S*)/)
		{
			my ($f, $lang) = ($1, $2);
			if (lc($lang) eq 'sql' || lc($lang) eq 'json')
			{
				$cur = { lang => lc($lang), line => $i + 2, text => [], skip => $skip };
				$fence = $f;
			}
			else { $other = $f; }
			undef $skip;
			next;
		}
		undef $skip if $l =~ /\S/;
	}
	die "$path: a ```$cur->{lang} block is not closed\n" if $cur;
	return @blocks;
}

my $node = lowcode_node('doc_examples', no_extension => 1,
	conf => "cron.database_name = '$db'\nlowcode.sweep_interval = '1h'\n");
$node->safe_psql('postgres', "CREATE DATABASE $db");

# The demo's setup steps, as scripts/demo.sh runs them
sub psql_file
{
	my ($file, @vars) = @_;
	my ($out, $err);
	my $ok = IPC::Run::run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', @vars, '-d', $node->connstr($db), '-f', $file ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($ok, $out, $err);
}
$node->safe_psql($db, 'SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_lowcode; CREATE EXTENSION IF NOT EXISTS pg_cron');
for my $step ([ "$top/scripts/demo_roles.sql" ], [ "$top/scripts/api_schema.sql", '-v', 'api_roles=authenticated' ],
	[ "$top/scripts/demo.sql" ])
{
	my ($ok, $out, $err) = psql_file(@$step);
	ok($ok, 'demo setup: ' . basename($step->[0])) or diag($err);
}

my @docs = ("$top/README.md", sort glob("$top/docs/*.md"));
my ($nblocks, $nskipped, $nexpected, $njson) = (0, 0, 0, 0);
my $tmp = PostgreSQL::Test::Utils::tempdir();

for my $doc (@docs)
{
	my $name = $doc; $name =~ s{^\Q$top\E/}{};
	my @all = sql_blocks($doc);
	# a ```json block is a JSON text a reader can copy: it must parse (no "..." in it)
	for my $b (grep { $_->{lang} eq 'json' } @all)
	{
		if (defined $b->{skip}) { $nskipped++; note("$name:$b->{line}: skipped: $b->{skip}"); next; }
		$njson++;
		my $text = join('', @{ $b->{text} });
		ok(eval { JSON::PP->new->allow_nonref->decode($text); 1 }, "$name:$b->{line}: the JSON block parses")
		  or diag($@);
	}
	my @blocks = grep { $_->{lang} eq 'sql' } @all;
	next unless @blocks;
	# one psql script per doc; @where maps its lines to the doc's
	my @script = ("\\set ON_ERROR_STOP 0\n", "\\set VERBOSITY verbose\n");
	my @where = (undef, undef);
	my %marker;     # script line of a "-- ERROR: CODE" marker => CODE
	for my $b (@blocks)
	{
		if (defined $b->{skip})
		{
			$nskipped++;
			note("$name:$b->{line}: skipped: $b->{skip}");
			next;
		}
		$nblocks++;
		for my $k (0 .. $#{ $b->{text} })
		{
			push @script, $b->{text}[$k];
			push @where, $b->{line} + $k;
			$marker{ scalar @script } = $1 if $b->{text}[$k] =~ /--\s*ERROR:\s*([0-9A-Z]{5})\b/;
		}
		# a block ends its statement: an unterminated one would swallow the next block
		push @script, "\n";
		push @where, undef;
	}
	next if @script == 2;
	my $file = "$tmp/" . basename($doc) . '.sql';
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh @script;
	close $fh;

	my ($out, $err);
	IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr($db), '-f', $file ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(300));

	# "psql:FILE:LINE: ERROR:  LG012: message" (VERBOSITY verbose), or a psql
	# error ("psql:FILE:LINE: error: ...")
	my (@unexpected, %hit);
	my @err = split /\n/, $err;
	for my $i (0 .. $#err)
	{
		next unless $err[$i] =~ /^psql:[^:]*:(\d+): (ERROR|FATAL|PANIC|error):\s+(.*)$/;
		my ($line, $level, $msg) = ($1, $2, $3);
		my $code = $level ne 'error' && $msg =~ /^([0-9A-Z]{5}): / ? $1 : undef;
		# PostgREST's raise (SQLSTATE PGRST): the code is the one in its JSON message
		$code = $1 if defined $code && $code eq 'PGRST' && $msg =~ /"code":"(\w+)"/;
		# the marker on the statement's last line or on the comment lines after it
		my ($mline, $mcode);
		for (my $l = $line; $l <= $#script + 1; $l++)
		{
			if (exists $marker{$l}) { ($mline, $mcode) = ($l, $marker{$l}); last; }
			last if $l > $line && $script[ $l - 1 ] !~ /^\s*--/;
		}
		my $at = "$name:" . ($where[ $line - 1 ] // '?');
		if (defined $mline && defined $code && $code eq $mcode && !$hit{$mline})
		{
			$hit{$mline} = 1;
			next;
		}
		my $detail = join("\n", grep { /^(DETAIL|HINT|CONTEXT):/ } @err[ $i + 1 .. ($i + 4 > $#err ? $#err : $i + 4) ]);
		push @unexpected, "$at: $level: $msg" . (defined $mline ? " (the doc expects $mcode)" : '') . ($detail ? "\n$detail" : '');
	}
	for my $l (sort { $a <=> $b } keys %marker)
	{
		$nexpected++;
		push @unexpected, "$name:$where[$l - 1]: the doc expects error $marker{$l}, and the statement succeeded"
		  unless $hit{$l};
	}
	ok(!@unexpected, "$name: every SQL example runs as documented") or diag(join("\n", @unexpected));
}

cmp_ok($nblocks, '>', 20, "$nblocks SQL blocks ran ($nexpected documented errors), $njson JSON blocks parsed");
# skipped blocks are few, and each says why
cmp_ok($nskipped, '<=', 6, "$nskipped blocks skipped, each with its reason");

done_testing();
