-- JsonLogic rules (src/jsonlogic/jsonlogic_*.c, docs/jsonlogic.md).

-- Apply a JsonLogic rule to data, with json-logic-js 2.x semantics.
-- NULL rule -> NULL; NULL data -> JSON null.  Errors: SQLSTATE LR101-LR106.
CREATE FUNCTION lowcode.jsonlogic_apply(rule jsonb, data jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'jsonlogic_apply'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION lowcode.jsonlogic_apply(jsonb, jsonb) IS
'Evaluate a JsonLogic rule (json-logic-js 2.x semantics) over data; see docs/jsonlogic.md';
