-- The form workload of the JSON Schema benchmarks (bench/jsonschema_bench.sql,
-- bench/jsonschema_vs_ajv.sql): 100,000 documents of ~400 bytes (nested
-- object, array of two objects) in form_docs, and the form schema in the psql
-- variable form_schema (3 patterns: email, phone, zip).  Include with \ir.
CREATE TABLE form_docs AS
SELECT jsonb_build_object(
    'first_name', 'Name' || g,
    'last_name', 'Surname' || (g % 977),
    'email', 'user' || g || '@example.com',
    'age', 18 + g % 60,
    'status', (ARRAY['draft', 'submitted', 'approved'])[1 + g % 3],
    'phone', '+86-138' || lpad((g % 100000000)::text, 8, '0'),
    'newsletter', g % 2 = 0,
    'address', jsonb_build_object('street', g || ' West Lake Road', 'city', 'Hangzhou',
                                  'zip', lpad((g % 1000000)::text, 6, '0'), 'country', 'CN'),
    'items', jsonb_build_array(
        jsonb_build_object('sku', 'SKU-' || (g % 5000), 'qty', 1 + g % 5, 'price', 9.99),
        jsonb_build_object('sku', 'SKU-' || (g % 3000), 'qty', 2, 'price', 120.5))
) AS doc
FROM generate_series(1, 100000) g;
VACUUM ANALYZE form_docs;
SELECT avg(pg_column_size(doc))::int AS avg_doc_bytes, avg(length(doc::text))::int AS avg_text_bytes FROM form_docs;

\set form_schema '{"type": "object", "required": ["first_name", "last_name", "email", "age", "status", "address"], "additionalProperties": false, "properties": {"first_name": {"type": "string", "minLength": 1, "maxLength": 50}, "last_name": {"type": "string", "minLength": 1, "maxLength": 50}, "email": {"type": "string", "pattern": "^[^@\\\\s]+@[^@\\\\s]+\\\\.[a-z]{2,}$"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}, "status": {"enum": ["draft", "submitted", "approved", "rejected"]}, "phone": {"type": "string", "pattern": "^\\\\+[0-9]{1,3}-[0-9]{6,14}$"}, "newsletter": {"type": "boolean"}, "address": {"type": "object", "required": ["city"], "additionalProperties": false, "properties": {"street": {"type": "string"}, "city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{6}$"}, "country": {"type": "string", "minLength": 2, "maxLength": 2}}}, "items": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "object", "required": ["sku", "qty"], "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}, "price": {"type": "number", "minimum": 0}}}}}}'

