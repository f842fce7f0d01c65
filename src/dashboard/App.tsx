/** The shell: sign-in, navigation, and the page for the current hash route. */
import { useEffect, useState } from "react";
import { setUnauthorizedHandler, storedKey, storeKey } from "./api.js";
import { useRoute } from "./router.js";
import { ErrorBoundary } from "./ui.js";
import { identify, SignIn, type Identity } from "./pages/SignIn.js";
import { EventsPage } from "./pages/Events.js";
import { EventDetail } from "./pages/EventDetail.js";
import { SubscriptionsPage } from "./pages/Subscriptions.js";
import { SubscriptionDetail } from "./pages/SubscriptionDetail.js";
import { SubscriptionForm } from "./pages/SubscriptionForm.js";
import { DeliveriesPage } from "./pages/Deliveries.js";
import { HooksPage } from "./pages/Hooks.js";
import { CatalogPage } from "./pages/Catalog.js";

const NAV = [
  ["events", "Events"],
  ["subscriptions", "Subscriptions"],
  ["deliveries", "Deliveries"],
  ["hooks", "Hooks"],
  ["catalog", "Catalog"],
] as const;

export function App() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [identity, setIdentity] = useState<Identity | undefined>();
  const [expired, setExpired] = useState(false);
  const route = useRoute();

  useEffect(() => {
    setUnauthorizedHandler(() => {
      storeKey(null);
      setKey(null);
      setExpired(true);
    });
    return () => setUnauthorizedHandler(undefined);
  }, []);
  // After a reload the key is still in the tab; find its app and scope again.
  useEffect(() => {
    if (key && !identity) identify(key).then(setIdentity, () => undefined);
  }, [key, identity]);

  if (!key) {
    return (
      <SignIn
        expired={expired}
        onSignedIn={(k, who) => {
          storeKey(k);
          setIdentity(who);
          setExpired(false);
          setKey(k);
        }}
      />
    );
  }

  const section = route.parts[0] ?? "events";
  const page = (() => {
    const [, id] = route.parts;
    switch (section) {
      case "events":
        return id ? <EventDetail id={id} /> : <EventsPage query={route.query} />;
      case "subscriptions":
        if (id === "new") return <SubscriptionForm />;
        if (id && route.parts[2] === "edit") return <SubscriptionForm id={id} />;
        return id ? <SubscriptionDetail id={id} /> : <SubscriptionsPage />;
      case "deliveries":
        return <DeliveriesPage query={route.query} />;
      case "hooks":
        return <HooksPage />;
      case "catalog":
        return <CatalogPage focus={id} />;
      default:
        return (
          <section className="panel">
            <h2>Not found</h2>
            <p>
              There is no page “{section}”. <a href="#/events">Go to events</a>.
            </p>
          </section>
        );
    }
  })();

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href="#/events">
          Authbus
        </a>
        <nav aria-label="Sections">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={`#/${path}`} aria-current={section === path ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {identity && (
            <span className="muted" data-testid="identity">
              {identity.app ? `app ${identity.app} · ` : ""}
              {identity.scope} key
            </span>
          )}
          <button
            type="button"
            className="link"
            onClick={() => {
              storeKey(null);
              setKey(null);
              setIdentity(undefined);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={route.parts.join("/")}>{page}</ErrorBoundary>
      </main>
    </>
  );
}
