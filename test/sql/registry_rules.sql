-- x-rules at every level of a registered schema (issue 15): self, has() guards,
-- array items, additionalProperties, $defs through $ref, oneOf and if/then
-- branches, transition rules (oldSelf) with ratcheting, messageExpression,
-- reason, fieldPath, warnings, and what registration refuses.
\set VERBOSITY terse
BEGIN;

CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  st text; msg text; det text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  IF st = 'PGRST' THEN
    -- the PostgREST error: code, message, and for invalid data each error's place and message
    RETURN (msg::jsonb ->> 'code') || ': ' || (msg::jsonb ->> 'message')
      || coalesce(' [' || (SELECT string_agg(format('%s %s: %s', e ->> 'instancePath', e ->> 'keyword', e ->> 'message'), '; ')
                             FROM jsonb_array_elements(CASE WHEN msg::jsonb ->> 'code' = 'LG012' THEN (msg::jsonb ->> 'details')::jsonb END) e) || ']', '');
  END IF;
  RETURN st || ': ' || msg;
END
$$;
CREATE FUNCTION pg_temp.as_tenant(t uuid) RETURNS boolean LANGUAGE sql AS $$
  SELECT set_config('request.jwt.claims', json_build_object('tenant_id', t, 'sub', 'rita')::text, false) IS NOT NULL
$$;
-- the errors of a validation, one line each
CREATE FUNCTION pg_temp.errs(subject text, instance jsonb) RETURNS TABLE (path text, keyword text, message text, schema_path text, reason text)
LANGUAGE sql AS $$
  SELECT e ->> 'instancePath', e ->> 'keyword', e ->> 'message', e ->> 'schemaPath', e -> 'params' ->> 'reason'
    FROM jsonb_array_elements(lowcode.validate(subject, instance) -> 'errors') e ORDER BY 1, 4
$$;

SELECT lowcode.create_tenant('rules-a') AS ta \gset
SELECT pg_temp.as_tenant(:'ta');

-- has() guards on optional fields, self at the root, the level's keys as variables
SELECT lowcode.register_schema('rr.invoice', $${
  "type": "object",
  "properties": {"amount": {"type": "number"}, "discount": {"type": "number"}, "currency": {"type": "string"}},
  "required": ["amount"],
  "x-rules": [
    {"rule": "!has(self.discount) || self.discount < self.amount", "message": "the discount must be below the amount", "fieldPath": ".discount"},
    {"rule": "!has(self.discount) || discount <= amount * 0.5", "message": "at most half off", "path": "/discount", "reason": "FieldValueForbidden"}
  ]
}$$) AS v;
SELECT * FROM pg_temp.errs('rr.invoice', '{"amount": 100}');
SELECT * FROM pg_temp.errs('rr.invoice', '{"amount": 100, "discount": 40}');
SELECT * FROM pg_temp.errs('rr.invoice', '{"amount": 100, "discount": 60}');
SELECT * FROM pg_temp.errs('rr.invoice', '{"amount": 100, "discount": 120}');
-- a value of the wrong type gets its type error only
SELECT * FROM pg_temp.errs('rr.invoice', '"not an object"');

-- rules in array items, additionalProperties and scalars: self is the value at that level
SELECT lowcode.register_schema('rr.order', $${
  "type": "object",
  "properties": {
    "lines": {"type": "array", "items": {
      "type": "object",
      "properties": {"sku": {"type": "string", "x-rules": [{"rule": "self.startsWith('SKU-')", "message": "an SKU starts with SKU-"}]},
                     "qty": {"type": "integer"}, "max": {"type": "integer"}},
      "x-rules": [{"rule": "self.qty <= self.max", "messageExpression": "'at most ' + string(self.max) + ' of ' + self.sku", "fieldPath": "/qty"}]
    }, "x-rules": [{"rule": "self.size() <= 3", "message": "at most 3 lines"}]},
    "extras": {"type": "object", "additionalProperties": {"type": "integer", "x-rules": [{"rule": "self % 5 == 0", "message": "multiples of 5"}]}}
  }
}$$) AS v;
SELECT * FROM pg_temp.errs('rr.order', '{"lines": [{"sku": "SKU-1", "qty": 2, "max": 5}, {"sku": "X-2", "qty": 9, "max": 4}], "extras": {"a": 10, "b": 7}}');
SELECT * FROM pg_temp.errs('rr.order', '{"lines": [{"sku": "SKU-1", "qty": 1, "max": 1}, {"sku": "SKU-2", "qty": 1, "max": 1}, {"sku": "SKU-3", "qty": 1, "max": 1}, {"sku": "SKU-4", "qty": 1, "max": 1}]}');

-- $defs reached by $ref, and a rule of another subject reached by lowcode: reference
SELECT lowcode.register_schema('rr.range', $${"type": "object", "properties": {"from": {"type": "integer"}, "to": {"type": "integer"}},
  "x-rules": [{"rule": "self.from <= self.to", "message": "from must not be after to", "fieldPath": ".to"}]}$$) AS v;
SELECT lowcode.register_schema('rr.booking', $${
  "type": "object",
  "$defs": {"day": {"type": "integer", "x-rules": [{"rule": "self >= 1 && self <= 31", "message": "a day of the month"}]}},
  "properties": {"arrive": {"$ref": "#/$defs/day"}, "leave": {"$ref": "#/$defs/day"}, "stay": {"$ref": "lowcode:rr.range"}}
}$$) AS v;
SELECT * FROM pg_temp.errs('rr.booking', '{"arrive": 40, "leave": 3, "stay": {"from": 5, "to": 2}}');

-- oneOf and if/then: a rule decides its branch, and runs only where its branch applies
SELECT lowcode.register_schema('rr.payment', $${
  "type": "object",
  "properties": {"kind": {"enum": ["card", "transfer"]}},
  "if": {"properties": {"kind": {"const": "card"}}},
  "then": {"x-rules": [{"rule": "has(self.card) && self.card.size() == 16", "message": "a card number has 16 digits", "fieldPath": ".card", "reason": "FieldValueRequired"}]},
  "else": {"x-rules": [{"rule": "has(self.iban)", "message": "an IBAN is needed", "fieldPath": ".iban", "reason": "FieldValueRequired"}]},
  "oneOf": [
    {"x-rules": [{"rule": "self.kind == 'card'"}]},
    {"x-rules": [{"rule": "self.kind == 'transfer'"}]}
  ]
}$$) AS v;
SELECT * FROM pg_temp.errs('rr.payment', '{"kind": "card", "card": "1234"}');
SELECT * FROM pg_temp.errs('rr.payment', '{"kind": "transfer"}');
SELECT lowcode.validate('rr.payment', '{"kind": "transfer", "iban": "DE00"}') ->> 'valid' AS transfer_ok;
SELECT lowcode.validate('rr.payment', '{"kind": "card", "card": "1234123412341234"}') ->> 'valid' AS card_ok;
-- neither oneOf branch holds
SELECT * FROM pg_temp.errs('rr.payment', '{"kind": "cash", "iban": "x"}');

-- warnings: reported, not rejecting
SELECT lowcode.register_schema('rr.note', $${"type": "object", "properties": {"text": {"type": "string"}},
  "x-rules": [{"rule": "self.text.size() >= 10", "message": "a longer text helps the reviewer", "fieldPath": ".text", "severity": "warning"}]}$$) AS v;
SELECT r ->> 'valid' AS valid, jsonb_array_length(r -> 'errors') AS errors,
       r #>> '{warnings,0,message}' AS warning, r #>> '{warnings,0,instancePath}' AS at, r #>> '{warnings,0,params,severity}' AS severity
  FROM lowcode.validate('rr.note', '{"text": "short"}') r;
SELECT lowcode.validate('rr.note', '{"text": "long enough, thanks"}') ? 'warnings' AS warns_when_fine;
SELECT (lowcode.submit('rr.note', '{"text": "short"}') ->> 'version')::int AS submitted_despite_warning;

-- transition rules: skipped on create, checked on update against the stored data
SELECT lowcode.register_schema('rr.claim', $${
  "type": "object",
  "properties": {"status": {"enum": ["draft", "submitted", "approved"]}, "amount": {"type": "number"}, "note": {"type": "string"}},
  "x-rules": [
    {"rule": "{'draft': 0, 'submitted': 1, 'approved': 2}[self.status] >= {'draft': 0, 'submitted': 1, 'approved': 2}[oldSelf.status]",
     "message": "the status only moves forward", "fieldPath": ".status"},
    {"rule": "oldSelf.status != 'approved' || self.amount <= oldSelf.amount", "message": "an approved amount may not grow", "fieldPath": ".amount"}
  ]
}$$) AS v;
SELECT (lowcode.submit('rr.claim', '{"status": "approved", "amount": 10}') ->> 'id') AS claim \gset
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET data = '{"status": "draft", "amount": 10}' WHERE id = %s$$, :'claim'));
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET data = '{"status": "approved", "amount": 11}' WHERE id = %s$$, :'claim'));
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET data = '{"status": "approved", "amount": 9, "note": "fine"}' WHERE id = %s$$, :'claim'));
SELECT data FROM lowcode.submissions WHERE id = :'claim';

-- ratcheting: a value accepted under an older version, unchanged, does not block an update of other fields
SELECT lowcode.register_schema('rr.profile', '{"type": "object", "properties": {"nick": {"type": "string"}, "bio": {"type": "string"}}}') AS v;
SELECT (lowcode.submit('rr.profile', '{"nick": "x", "bio": "hi"}') ->> 'id') AS prof \gset
SELECT lowcode.set_compatibility('rr.profile', 'NONE');
SELECT lowcode.register_schema('rr.profile', $${"type": "object", "properties": {"nick": {"type": "string", "x-rules": [{"rule": "self.size() >= 3", "message": "a nick has 3 characters or more"}]}, "bio": {"type": "string", "maxLength": 1}}}$$) AS v2;
-- moved to version 2 with other fields changed: the unchanged nick is not judged again, the changed bio is
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET version = 2, data = '{"nick": "x", "bio": "h"}' WHERE id = %s$$, :'prof'));
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET data = '{"nick": "x", "bio": "hello"}' WHERE id = %s$$, :'prof'));
SELECT pg_temp.err(format($$UPDATE lowcode.submissions SET data = '{"nick": "y", "bio": "h"}' WHERE id = %s$$, :'prof'));
SELECT version, data FROM lowcode.submissions WHERE id = :'prof';
-- a new submission gets no such grace
SELECT * FROM pg_temp.errs('rr.profile', '{"nick": "x"}');

-- registration refuses a malformed rule, with its place
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"x-rules": [{"rule": "!has(discount) || discount < 5"}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"items": {"x-rules": [{"rule": "self >"}]}}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"$defs": {"d": {"x-rules": [{"rule": "true", "sevrity": "warning"}]}}, "$ref": "#/$defs/d"}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"oneOf": [{"x-rules": [{"rule": "true", "severity": "info"}]}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"x-rules": [{"rule": "true", "reason": "Nope"}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"x-rules": [{"rule": "true", "fieldPath": "a b"}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"x-rules": [{"rule": "nosuchfn(self)"}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.bad', '{"additionalProperties": {"x-rules": {"rule": "true"}}}')$$);
SELECT pg_temp.err($q$SELECT lowcode.register_schema('rr.bad', $${"x-rules": [{"rule": "true", "messageExpression": "'a' +"}]}$$)$q$);
-- rules are type-checked against the schema at their level, and their worst-case cost estimated
CREATE TEMP TABLE typed (n serial, rule text);
INSERT INTO typed (rule) VALUES
  ('self.dicount < self.amount'),
  ('!has(self.dicount) || self.discount < self.amount'),
  ('self.currency > 5'),
  ('totl > 0'),
  ('self.amount + ''x'' == ''y'''),
  ('self.amount'),
  ('self.count * 0.5 > 1.0'),
  ('self.currency.startsWith(1)'),
  ('self.amount.size() > 0');
SELECT rule, pg_temp.err(format($q$SELECT lowcode.register_schema('rr.typed%s', %L)$q$, n,
         jsonb_build_object('type', 'object', 'properties', jsonb_build_object('amount', '{"type": "number"}'::jsonb, 'discount', '{"type": "number"}'::jsonb,
                            'currency', '{"type": "string"}'::jsonb, 'count', '{"type": "integer"}'::jsonb),
                            'additionalProperties', false, 'x-rules', jsonb_build_array(jsonb_build_object('rule', rule))))) AS refused
  FROM typed ORDER BY n;
-- a field the schema leaves open (additionalProperties as a schema, patternProperties, allOf) is not refused
SELECT lowcode.register_schema('rr.open', $${"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"},
  "x-rules": [{"rule": "!has(self.b) || self.b.size() < self.a"}]}$$) AS open_ok;
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.open2', '{"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}, "x-rules": [{"rule": "self.b > self.a"}]}')$$) AS typed_through_additional;
SELECT lowcode.register_schema('rr.composed', $${"allOf": [{"properties": {"b": {"type": "integer"}}}], "properties": {"a": {"type": "integer"}},
  "x-rules": [{"rule": "!has(self.b) || self.b < self.a"}]}$$) AS composed_ok;
-- types inside array items and through local references
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.items', '{"$defs": {"line": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}}, "type": "array", "items": {"$ref": "#/$defs/line"}, "x-rules": [{"rule": "self.all(l, l.qty > 0 && l.sku > 0)"}]}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.items', '{"type": "object", "properties": {"lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}, "x-rules": [{"rule": "self.skew != \"\""}]}}}}')$$);
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.items', '{"x-rules": [{"rule": "true", "messageExpression": "1 + 1"}]}')$$);
-- cost: three nested walks of a list of up to 1000 items exceed the limit; of up to 10 they do not
SELECT pg_temp.err($$SELECT lowcode.register_schema('rr.cost', '{"type": "array", "maxItems": 1000, "items": {"type": "integer"}, "x-rules": [{"rule": "self.all(a, self.all(b, self.all(c, a + b + c > 0)))"}]}')$$);
SELECT lowcode.register_schema('rr.cost', '{"type": "array", "maxItems": 10, "items": {"type": "integer"}, "x-rules": [{"rule": "self.all(a, self.all(b, self.all(c, a + b + c > 0)))"}]}') AS bounded_ok;
SELECT * FROM pg_temp.errs('rr.cost', '[1, 2, -9]');

SELECT count(*) AS bad_registered FROM lowcode.subjects WHERE name = 'rr.bad';

ROLLBACK;
