-- Registry benchmark set-up: the form workload of the JSON Schema benchmark
-- (100,000 generated form documents of ~400 bytes against a form schema of
-- about 16 keywords with 3 patterns, additionalProperties: false, nested
-- objects and arrays), registered as subject "bench-form" of tenant
-- "bench-tenant".  Run by bench/registry_bench.sh.
\set ON_ERROR_STOP 1
DROP EXTENSION IF EXISTS pg_lowcode CASCADE;
CREATE EXTENSION pg_lowcode;
SELECT lowcode.create_tenant('bench-tenant') AS tenant \gset
SELECT set_config('request.jwt.claims', json_build_object('tenant_id', :'tenant')::text, false) IS NOT NULL AS ctx;

CREATE TABLE bench_schema AS SELECT '{
  "type": "object",
  "properties": {
    "first_name": {"type": "string", "minLength": 1, "maxLength": 50},
    "last_name": {"type": "string", "minLength": 1, "maxLength": 50},
    "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "status": {"enum": ["new", "active", "suspended", "closed"]},
    "phone": {"type": "string", "pattern": "^\\+?[0-9 ()-]{7,20}$"},
    "address": {
      "type": "object",
      "properties": {
        "street": {"type": "string"},
        "city": {"type": "string"},
        "zip": {"type": "string", "pattern": "^[0-9]{5}$"}
      },
      "required": ["street", "city", "zip"],
      "additionalProperties": false
    },
    "items": {
      "type": "array",
      "items": {
        "type": "object",
        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
        "required": ["sku", "qty"]
      },
      "maxItems": 20
    }
  },
  "required": ["first_name", "last_name", "email", "age", "status"],
  "additionalProperties": false
}'::jsonb AS schema;

SELECT lowcode.register_schema('bench-form', (SELECT schema FROM bench_schema)) AS version;

CREATE TABLE bench_docs AS
SELECT i, jsonb_build_object(
  'first_name', 'First' || i, 'last_name', 'Last' || (i % 977),
  'email', 'user' || i || '@example.com', 'age', i % 90,
  'status', (ARRAY['new', 'active', 'suspended', 'closed'])[1 + i % 4],
  'phone', '+33 1 23 45 ' || lpad((i % 10000)::text, 4, '0'),
  'address', jsonb_build_object('street', i || ' rue de la Paix', 'city', 'Paris', 'zip', lpad((i % 100000)::text, 5, '0')),
  'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (i % 1000), 'qty', 1 + i % 5),
                             jsonb_build_object('sku', 'SKU-' || (i % 333), 'qty', 2))) AS doc
FROM generate_series(1, 100000) i;
SELECT avg(length(doc::text))::int AS avg_doc_bytes FROM bench_docs;
VACUUM ANALYZE bench_docs;
