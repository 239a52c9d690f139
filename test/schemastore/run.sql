-- test/schemastore/run.sh: load the SchemaStore pairs prepared by
-- prepare.js (psql variable out), register every schema in the document
-- store under its URIs, validate every pair and compare with SchemaStore's
-- expected answer.  An error (the schema does not compile, a reference does
-- not resolve) counts as a disagreement.
\set ON_ERROR_STOP 1
\pset pager off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_lowcode;
DROP SCHEMA IF EXISTS ss CASCADE;
RESET client_min_messages;
CREATE SCHEMA ss;
SET search_path = ss, public;
CREATE TABLE raw_docs (j jsonb);
CREATE TABLE raw_pairs (j jsonb);
SELECT :'out' || '/docs.jsonl' AS docs_file, :'out' || '/pairs.jsonl' AS pairs_file \gset
COPY raw_docs FROM :'docs_file' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
COPY raw_pairs FROM :'pairs_file' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02');
CREATE TABLE docs AS SELECT j->>'name' AS name, j->'doc' AS doc, ARRAY(SELECT jsonb_array_elements_text(j->'uri')) AS uris FROM raw_docs;
CREATE TABLE pairs AS SELECT row_number() OVER () AS id, j->>'schema' AS schema, j->>'file' AS file,
                             (j->>'expected')::boolean AS expected, j->'instance' AS instance FROM raw_pairs;
CREATE TABLE results (id bigint, got boolean, error text);

-- the "$id" / "id" aliases first, then every schema's own published URI,
-- which wins: some schemas declare another one's "$id" (anywork-ac-1.1.json
-- says it is anywork-ac-1.0.json)
DO $$
DECLARE d record; u text; n int := 0; pass int;
BEGIN
    FOR pass IN 1 .. 2 LOOP
        FOR d IN SELECT * FROM ss.docs ORDER BY name LOOP
            FOREACH u IN ARRAY CASE pass WHEN 1 THEN d.uris[2:] ELSE d.uris[1:1] END LOOP
                IF pass = 1 AND u = ANY (SELECT o.uris[1] FROM ss.docs o) THEN
                    RAISE NOTICE '% declares the URI % of another schema', d.name, u;
                END IF;
                BEGIN
                    PERFORM lowcode.register_document(u, d.doc);
                    n := n + 1;
                EXCEPTION WHEN others THEN
                    RAISE WARNING 'not registered: % as %: %', d.name, u, SQLERRM;
                END;
            END LOOP;
        END LOOP;
    END LOOP;
    RAISE NOTICE 'registered % documents', n;
END $$;

-- every pair, each in its own subtransaction; the schema is named by the
-- URI it is published (and registered) at, https://json.schemastore.org/NAME,
-- which is its retrieval URI: the base of its relative references even where
-- the draft ignores its "$id" (beside "$ref" up to draft 7)
DO $$
DECLARE p record; v boolean; opts jsonb := current_setting('ss.options')::jsonb;
BEGIN
    FOR p IN SELECT pairs.*, jsonb_build_object('$ref', docs.uris[1]) AS doc
             FROM ss.pairs JOIN ss.docs ON docs.name = pairs.schema ORDER BY id LOOP
        BEGIN
            v := (lowcode.jsonschema_validate(p.doc, p.instance, opts)->>'valid')::boolean;
            INSERT INTO ss.results VALUES (p.id, v, NULL);
        EXCEPTION WHEN others THEN
            INSERT INTO ss.results VALUES (p.id, NULL, SQLSTATE || ': ' || SQLERRM);
        END;
    END LOOP;
END $$;

\echo '== agreement with SchemaStore''s expected answers (options :options)'
SELECT count(*) AS pairs, count(DISTINCT schema) AS schemas,
       count(*) FILTER (WHERE got IS NOT DISTINCT FROM expected) AS agree,
       round(100.0 * count(*) FILTER (WHERE got IS NOT DISTINCT FROM expected) / count(*), 2) AS agree_pct,
       count(*) FILTER (WHERE error IS NOT NULL) AS errors,
       count(*) FILTER (WHERE got = NOT expected AND expected) AS valid_rejected,
       count(*) FILTER (WHERE got = NOT expected AND NOT expected) AS invalid_accepted
FROM pairs JOIN results USING (id);

\echo '== disagreements by kind (first error text)'
SELECT CASE WHEN error IS NOT NULL THEN regexp_replace(error, '"[^"]*"', '"…"', 'g')
            WHEN expected THEN 'valid instance rejected' ELSE 'invalid instance accepted' END AS kind,
       count(*) AS pairs, count(DISTINCT schema) AS schemas
FROM pairs JOIN results USING (id) WHERE got IS DISTINCT FROM expected
GROUP BY 1 ORDER BY 2 DESC;

\echo '== every disagreement (also in disagreements.tsv)'
SELECT schema, file, expected, got, left(error, 160) AS error
FROM pairs JOIN results USING (id) WHERE got IS DISTINCT FROM expected ORDER BY schema, file;
SELECT :'out' || '/disagreements.tsv' AS dis_file \gset
COPY (SELECT schema, file, expected, got, error FROM pairs JOIN results USING (id)
      WHERE got IS DISTINCT FROM expected ORDER BY schema, file) TO :'dis_file';
