-- The app server's tables (bench/appserver/server.js): the same three rows per submission as
-- lowcode.submit writes (the submission, an audit row, an event), in plain tables without row
-- security. Created by bench/postgrest_http.sh --appserver and bench/submit_scaling.sh (variant A).
CREATE SCHEMA app;
CREATE TABLE app.submissions (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, subject text NOT NULL,
  version integer, data jsonb NOT NULL, status text NOT NULL DEFAULT 'submitted', created_by text,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
CREATE INDEX ON app.submissions (tenant_id, subject, version);
CREATE TABLE app.audit (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, created_at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL, action text NOT NULL, subject text, version integer, details jsonb NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE app.events (tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY, type text NOT NULL, payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
