-- JSON Schema format checkers through lowcode.format_check().  The full
-- JSON Schema Test Suite runs in test/t/025_jsonschema_format_suite.pl;
-- these are the cases worth reading.
-- Leave the database as found: create the extension only when it is not
-- there yet, and drop it again at the end in that case.
SELECT NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_lowcode') AS lc_create \gset
\if :lc_create
CREATE EXTENSION pg_lowcode;
\endif

SELECT f, v, lowcode.format_check(f, v) AS valid FROM (VALUES
    ('date-time', '1963-06-19T08:30:06.283185Z'),
    ('date-time', '1998-12-31T23:59:60Z'),
    ('date-time', '1998-12-31T15:59:60.123-08:00'),
    ('date-time', '1998-12-31T22:59:60Z'),
    ('date-time', '1990-02-31T15:59:59.123-08:00'),
    ('date-time', '1963-06-19t08:30:06z'),
    ('date-time', '1963-06-19 08:30:06Z'),
    ('date', '2020-02-29'),
    ('date', '2100-02-29'),
    ('date', '2020-1-01'),
    ('time', '08:30:06+00:20'),
    ('time', '12:00:00'),
    ('time', '23:59:60+00:00'),
    ('duration', 'P4DT12H30M5S'),
    ('duration', 'P2W'),
    ('duration', 'P1Y2W'),
    ('duration', 'PT1H2S'),
    ('duration', 'PT0.5S'),
    ('email', 'joe.bloggs@example.com'),
    ('email', '"joe bloggs"@example.com'),
    ('email', 'joe.bloggs@[IPv6:::1]'),
    ('email', 'te..st@example.com'),
    ('email', 'δοκιμή@example.com'),
    ('idn-email', 'δοκιμή@example.com'),
    ('idn-email', '실례@실례.테스트'),
    ('hostname', 'www.example.com'),
    ('hostname', 'ab--cd.example'),
    ('hostname', '-hostname'),
    ('hostname', 'xn--9n2bp8q.xn--9t4b11yi5a'),
    ('hostname', 'xn--X'),
    ('hostname', 'xn--ll-0ea'),
    ('hostname', 'xn--al-0ea'),
    ('hostname', 'example.'),
    ('idn-hostname', '실례.테스트'),
    ('idn-hostname', 'a。b'),
    ('idn-hostname', 'l·l'),
    ('idn-hostname', 'a·l'),
    ('idn-hostname', 'α͵β'),
    ('idn-hostname', 'क्‍ष'),
    ('idn-hostname', 'क‍ष'),
    ('idn-hostname', '0a.א'),
    ('idn-hostname', 'ب٠۰'),
    ('ipv4', '192.168.0.1'),
    ('ipv4', '087.10.0.1'),
    ('ipv4', '256.1.1.1'),
    ('ipv6', '::ffff:192.168.0.1'),
    ('ipv6', '1::d6::42'),
    ('ipv6', 'fe80::a%eth1'),
    ('uri', 'http://foo.bar/?baz=qux#quux'),
    ('uri', 'urn:oasis:names:specification:docbook:dtd:xml:4.1.2'),
    ('uri', '//foo.bar/?baz=qux#quux'),
    ('uri', 'https://example.org/foobar®.txt'),
    ('uri', 'http://[::ffff:01.2.3.4]'),
    ('uri-reference', '/abc'),
    ('uri-reference', '1:b'),
    ('iri', 'http://ƒøø.ßår/?∂éœ=πîx#πîüx'),
    ('iri', 'http://[V1.fe]'),
    ('iri-reference', '#ƒrägmênt'),
    ('uri-template', 'http://example.com/dictionary/{term:1}/{term}'),
    ('uri-template', '{v:0}'),
    ('uri-template', '{a,,b}'),
    ('uuid', '2eb8aa08-aa98-11ea-b4aa-73b441d16380'),
    ('uuid', '2eb8aa08aa9811eab4aa73b441d16380'),
    ('regex', '([abc])+\s+$'),
    ('regex', '^(abc]'),
    ('regex', '(?<n>a)\k<n>'),
    ('json-pointer', '/foo/bar~0/baz~1/%a'),
    ('json-pointer', '/foo/bar~'),
    ('relative-json-pointer', '0#'),
    ('relative-json-pointer', '01/a')
) v(f, v);

-- An unknown format is an error here (the validator treats it as valid).
SELECT lowcode.format_check('phone', '+1 555');
-- NULL in, NULL out
SELECT lowcode.format_check('date', NULL) IS NULL AS strict;

\if :lc_create
DROP EXTENSION pg_lowcode;
\endif
