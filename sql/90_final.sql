-- pg_lowcode install script, part 90: what spans components.

-- Functions are callable by PUBLIC unless their part revoked it; the pure
-- functions (validation, rules) are meant to be usable by anyone, including
-- in CHECK constraints of users' tables.  raise_http is harmless (it only raises).
-- current_tenant() and pre_request() stay callable: they only read the
-- caller's own context.
