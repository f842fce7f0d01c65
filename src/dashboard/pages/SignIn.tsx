/** Sign-in with an API key, checked against the API before it is kept (in this tab's sessionStorage). */
import { useState, type FormEvent } from "react";
import { api, ApiError, describeError, type Page } from "../api.js";

export interface Identity {
  app?: string;
  scope: "admin" | "read" | "ingest";
}

/** Which app and scope a key has: the key list answers admin keys only, a subscription list any reading key. */
export async function identify(key: string): Promise<Identity> {
  try {
    const keys = await api<Page<{ app_id: string }>>("/v1/keys?limit=1", { key });
    return { app: keys.data[0]?.app_id, scope: "admin" };
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403) throw e;
  }
  try {
    const subs = await api<Page<{ app_id: string }>>("/v1/subscriptions?limit=1", { key });
    return { app: subs.data[0]?.app_id, scope: "read" };
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return { scope: "ingest" };
    throw e;
  }
}

export function SignIn({ onSignedIn, expired }: { onSignedIn: (key: string, who: Identity) => void; expired: boolean }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const k = key.trim();
    if (!k) return setError("Paste an API key first.");
    setBusy(true);
    setError(undefined);
    try {
      const who = await identify(k);
      if (who.scope === "ingest") {
        setError("This is an ingest key: it can record events but not read them. Sign in with a read or admin key.");
        return;
      }
      onSignedIn(k, who);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? "That API key was not accepted. Check that it was copied whole (it starts with abk_) and has not been revoked." : describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin" id="main">
      <form onSubmit={submit} className="panel" aria-labelledby="signin-title">
        <h1 id="signin-title">Authbus</h1>
        <p>Sign in with an API key of your app. An admin key can act (create subscriptions, replay, retry); a read key can only look.</p>
        {expired && !error && (
          <p className="error" role="alert">
            The key stopped working (revoked?). Sign in again.
          </p>
        )}
        <label htmlFor="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autoComplete="off" spellCheck={false} value={key} onChange={(e) => setKey(e.target.value)} placeholder="abk_…" autoFocus />
        <p className="hint">Kept in this browser tab only (sessionStorage): closing the tab signs you out.</p>
        {error && (
          <p className="error" role="alert" data-testid="signin-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
