/**
 * The example low-code app: a tenant user signs in, chooses a form from the
 * tenant's registry, fills it (ajv checks it live in the browser, the same
 * checks the database makes), submits it (the database validates it again,
 * with its cross-field rules; a 422 lands next to the same fields), and sees
 * the tenant's submissions. Everything goes through PostgREST (/api is
 * proxied to it by server.mjs); a second tenant sees none of the first's data.
 */
import React, { useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import Form from '@rjsf/core';
import validator from '@rjsf/validator-ajv8';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import { LowcodeClient, ValidationError, LowcodeError, toExtraErrors, withRetry } from '@pg-lowcode/client';

interface Session { jwt: string; sessionToken: string; tenant: string; user: string; apiSchema: string; sessionHeader: string }
interface FormRow { subject: string; latest_version: number; description: string | null }
interface Submission { id: string | number; subject: string; version: number; data: unknown; created_at: string; created_by: string | null }

function useClient(session: Session | null): LowcodeClient | null {
  return useMemo(() => session && new LowcodeClient({
    url: `${location.origin}/api`,
    token: session.jwt,
    schema: session.apiSchema || undefined,
    headers: { [session.sessionHeader]: session.sessionToken, 'Accept-Language': navigator.language },
  }), [session]);
}

/** RJSF keeps the schema's key order; `ui:order` makes it explicit where the registry gives an order. */
function uiSchemaFor(schema: RJSFSchema): UiSchema {
  const order = (schema as { 'x-order'?: string[] })['x-order'];
  return Array.isArray(order) ? { 'ui:order': [...order, '*'] } : {};
}

function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [tenant, setTenant] = useState('acme');
  const [user, setUser] = useState('ann@acme.example');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    const r = await fetch('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant, user }) });
    const body = await r.json();
    if (!r.ok) { setError(body.message ?? `sign-in failed (${r.status})`); return; }
    onLogin(body as Session);
  };
  return (
    <section className="login">
      <h2>Sign in</h2>
      <form onSubmit={submit}>
        <label htmlFor="tenant">Tenant</label>
        <input id="tenant" value={tenant} onChange={(e) => setTenant(e.target.value)} />
        <label htmlFor="user">User</label>
        <input id="user" value={user} onChange={(e) => setUser(e.target.value)} />
        <button className="primary" id="sign-in" type="submit">Sign in</button>
        {error && <p className="errors" role="alert">{error}</p>}
      </form>
    </section>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const client = useClient(session);
  const [forms, setForms] = useState<FormRow[]>([]);
  const [subject, setSubject] = useState<string | null>(null);
  const [schema, setSchema] = useState<RJSFSchema | null>(null);
  const [formData, setFormData] = useState<unknown>(undefined);
  const [extraErrors, setExtraErrors] = useState<Record<string, unknown> | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [submissions, setSubmissions] = useState<Submission[]>([]);
  // a fresh form (after a submission or when another form is chosen) is mounted anew without data, so that
  // RJSF shows no errors until it is edited
  const [formKey, setFormKey] = useState(0);

  const show = (e: unknown) => setProblem(e instanceof LowcodeError ? `${e.code || e.status}: ${e.message}` : String(e));

  const loadSubmissions = useCallback(async (s: string) => {
    if (!client) return;
    setSubmissions(await client.listSubmissions<Submission>(s, 20));
  }, [client]);

  useEffect(() => {
    if (!client) return;
    client.listForms<FormRow>().then(setForms, show);
  }, [client]);

  useEffect(() => {
    if (!client || !subject) return;
    setSchema(null); setFormData(undefined); setExtraErrors(undefined); setNotice(null); setProblem(null);
    client.getForm<RJSFSchema>(subject).then(setSchema, show);
    loadSubmissions(subject).catch(show);
  }, [client, subject, loadSubmissions]);

  if (!session || !client) return <Login onLogin={setSession} />;

  const onSubmit = async ({ formData: data }: { formData?: unknown }) => {
    if (!subject) return;
    setExtraErrors(undefined); setNotice(null); setProblem(null);
    try {
      await withRetry(() => client.submit(subject, data));
      setNotice('Submitted.');
      setFormData(undefined);
      setFormKey((k) => k + 1);
      await loadSubmissions(subject);
    } catch (e) {
      if (e instanceof ValidationError) {
        setExtraErrors(toExtraErrors(e.errors) as Record<string, unknown>);
        setProblem(`The server refused the form (${e.errors.length} error${e.errors.length === 1 ? '' : 's'}).`);
      } else show(e);
    }
  };

  return (
    <>
      <header>
        <h1>pg_lowcode forms</h1>
        <span id="who">{session.user} @ {session.tenant}</span>
      </header>
      <main>
        <section>
          <h2>Forms</h2>
          <ul className="forms" id="forms">
            {forms.map((f) => (
              <li key={f.subject}>
                <button className={f.subject === subject ? 'active' : ''} data-subject={f.subject} onClick={() => setSubject(f.subject)}>
                  {f.description ?? f.subject} <small>v{f.latest_version}</small>
                </button>
              </li>
            ))}
          </ul>
          {forms.length === 0 && <p id="no-forms">No forms yet.</p>}
        </section>
        <section id="form-panel">
          {!subject && <p>Choose a form.</p>}
          {notice && <p className="notice" role="status" id="notice">{notice}</p>}
          {problem && <p className="errors" role="alert" id="problem">{problem}</p>}
          {subject && schema && (
            <Form
              key={formKey}
              className="rjsf"
              schema={schema}
              uiSchema={uiSchemaFor(schema)}
              validator={validator}
              formData={formData}
              onChange={(e) => setFormData(e.formData)}
              liveValidate
              showErrorList={false}
              extraErrors={extraErrors as never}
              onSubmit={onSubmit as never}
            />
          )}
        </section>
        <section>
          <h2>Submissions</h2>
          <table id="submissions">
            <thead><tr><th>When</th><th>By</th><th>Data</th></tr></thead>
            <tbody>
              {submissions.map((s) => (
                <tr key={String(s.id)}><td>{new Date(s.created_at).toLocaleTimeString()}</td><td>{s.created_by}</td><td><code>{JSON.stringify(s.data)}</code></td></tr>
              ))}
            </tbody>
          </table>
          {subject && submissions.length === 0 && <p id="no-submissions">No submissions yet.</p>}
        </section>
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
