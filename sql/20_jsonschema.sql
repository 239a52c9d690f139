-- JSON Schema: validation functions and the document store.
-- See docs/jsonschema.md.

CREATE FUNCTION lowcode.jsonschema_is_valid(schema jsonb, instance jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'jsonschema_is_valid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.jsonschema_is_valid(jsonb, jsonb) IS
'Is the instance valid against the JSON Schema (drafts 4, 6, 7, 2019-09, 2020-12)?';

CREATE FUNCTION lowcode.jsonschema_validate(schema jsonb, instance jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonschema_validate'
-- STABLE, not IMMUTABLE: messages follow the setting lowcode.locale
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.jsonschema_validate(jsonb, jsonb, jsonb) IS
'Validate and return {"valid", "errors": [...]}: errors in JSON Schema basic output and ajv shape';

CREATE FUNCTION lowcode.jsonschema_check(schema jsonb, options jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonschema_check'
LANGUAGE C STABLE PARALLEL UNSAFE;

COMMENT ON FUNCTION lowcode.jsonschema_check(jsonb, jsonb) IS
'Is the schema itself valid (against its metaschema; regexes compile; references resolve)?';

CREATE FUNCTION lowcode.jsonschema_cache_stats()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonschema_cache_stats'
LANGUAGE C VOLATILE;

-- The document store: schemas that $ref and $schema resolve absolute URIs
-- from.  Operator-managed, shared by all tenants (not tenant-scoped).
CREATE TABLE lowcode.schema_documents (
    uri           text PRIMARY KEY
                  CHECK (uri ~ '^[A-Za-z][A-Za-z0-9+.-]*:' AND position('#' in uri) = 0),
    document      jsonb NOT NULL
                  CHECK (jsonb_typeof(document) IN ('object', 'boolean')),
    registered_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE lowcode.schema_documents IS
'JSON Schema documents that $ref resolves absolute URIs from (operator-managed; use lowcode.register_document)';

REVOKE ALL ON lowcode.schema_documents FROM PUBLIC;
GRANT SELECT ON lowcode.schema_documents TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('lowcode.schema_documents', '');

CREATE FUNCTION lowcode.jsonschema_store_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'jsonschema_store_changed'
LANGUAGE C;

-- Any change, through the functions below or not, invalidates compiled
-- schemas that loaded documents, in every backend.
CREATE TRIGGER schema_documents_changed
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lowcode.schema_documents
FOR EACH STATEMENT EXECUTE FUNCTION lowcode.jsonschema_store_changed();

CREATE FUNCTION lowcode.register_document(uri text, document jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, lowcode, pg_temp
AS $$
DECLARE
    u text := uri;
BEGIN
    IF u IS NULL OR document IS NULL THEN
        RAISE EXCEPTION 'register_document: uri and document must not be null'
            USING ERRCODE = 'LJ008';
    END IF;
    IF octet_length(u) > 2048 THEN
        -- a longer URI would fail in the primary key's index with an internal-looking 54000
        RAISE EXCEPTION 'register_document: the document URI is longer than 2048 bytes'
            USING ERRCODE = 'LJ008';
    END IF;
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c
                        WHERE c.oid = 'lowcode.schema_documents'::regclass), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to register JSON Schema documents'
            USING ERRCODE = '42501',
                  DETAIL = 'Only the owner of lowcode.schema_documents (or a superuser) may change the document store.';
    END IF;
    -- "http://x/y#" and "http://x/y" name the same document
    IF right(u, 1) = '#' THEN
        u := left(u, -1);
    END IF;
    IF u !~ '^[A-Za-z][A-Za-z0-9+.-]*:' THEN
        RAISE EXCEPTION 'document URI "%" is not absolute', uri
            USING ERRCODE = 'LJ008',
                  HINT = 'Use an absolute URI with a scheme, such as https://example.com/schemas/address.json.';
    END IF;
    IF position('#' in u) > 0 THEN
        RAISE EXCEPTION 'document URI "%" must not have a fragment', uri
            USING ERRCODE = 'LJ008';
    END IF;
    IF jsonb_typeof(document) NOT IN ('object', 'boolean') THEN
        RAISE EXCEPTION 'document "%" is not a JSON Schema: a schema is an object or a boolean, not %',
            uri, jsonb_typeof(document)
            USING ERRCODE = 'LJ008';
    END IF;
    INSERT INTO lowcode.schema_documents AS d (uri, document)
    VALUES (u, document)
    ON CONFLICT ON CONSTRAINT schema_documents_pkey
    DO UPDATE SET document = EXCLUDED.document, registered_at = now();
END;
$$;

CREATE FUNCTION lowcode.unregister_document(uri text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, lowcode, pg_temp
AS $$
DECLARE
    u text := uri;
    n bigint;
BEGIN
    IF NOT pg_has_role((SELECT c.relowner FROM pg_class c
                        WHERE c.oid = 'lowcode.schema_documents'::regclass), 'USAGE') THEN
        RAISE EXCEPTION 'permission denied to unregister JSON Schema documents'
            USING ERRCODE = '42501',
                  DETAIL = 'Only the owner of lowcode.schema_documents (or a superuser) may change the document store.';
    END IF;
    IF right(u, 1) = '#' THEN
        u := left(u, -1);
    END IF;
    DELETE FROM lowcode.schema_documents d WHERE d.uri = u;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n > 0;
END;
$$;

-- The format checkers (src/jsonschema/js_format.c, js_format_sql.c).
-- Is "value" valid for the JSON Schema format "format"?
CREATE FUNCTION lowcode.format_check(format text, value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'lc_format_check_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.format_check(text, text) IS
'Check a string against a JSON Schema format (date-time, email, hostname, ipv4, uri, ...)';
