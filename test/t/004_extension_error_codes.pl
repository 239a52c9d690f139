# The SQLSTATEs of pg_lowcode are one list: every code of src/lc/lc_errcodes.h
# is documented in docs/errors.md, and every LXnnn code docs/errors.md names
# is defined in the header, once.  (No server: both files are read as text.)
use strict;
use warnings;
use Test::More;

my $top = $ENV{LOWCODE_TOP} // '.';

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	local $/;
	return <$fh>;
}

my $header = slurp("$top/src/lc/lc_errcodes.h");
my $docs = slurp("$top/docs/errors.md");

# header: #define NAME MAKE_SQLSTATE('L','T','0','0','1')
my (%in_header, %names);
while ($header =~ /^#define\s+(\w+)\s+MAKE_SQLSTATE\('(.)',\s*'(.)',\s*'(.)',\s*'(.)',\s*'(.)'\)/mg)
{
	my ($name, $code) = ($1, "$2$3$4$5$6");
	ok(!$names{$name}++, "$name is defined once");
	next unless $code =~ /^L[A-Z]\d{3}$/;
	ok(!$in_header{$code}, "$code is defined once in lc_errcodes.h");
	$in_header{$code} = $name;
}
cmp_ok(scalar(keys %in_header), '>', 50, 'lc_errcodes.h defines the codes');

# docs: every `LXnnn` in backquotes
my %in_docs = map { $_ => 1 } ($docs =~ /`(L[A-Z]\d{3})`/g);
cmp_ok(scalar(keys %in_docs), '>', 50, 'docs/errors.md lists the codes');

for my $code (sort keys %in_header)
{
	ok($in_docs{$code}, "$code ($in_header{$code}) is documented in docs/errors.md");
}
for my $code (sort keys %in_docs)
{
	ok($in_header{$code}, "$code of docs/errors.md is defined in src/lc/lc_errcodes.h");
}

# no SQLSTATE is made anywhere else in C
my @stray;
for my $f (glob("$top/src/*.[ch] $top/src/*/*.[ch]"))
{
	next if $f =~ m{/lc_errcodes\.h$};
	push @stray, $f if slurp($f) =~ /MAKE_SQLSTATE/;
}
is_deeply(\@stray, [], 'MAKE_SQLSTATE appears in src/lc/lc_errcodes.h only');

done_testing();
