/**
 * `withAuthbus(config, bus)` for the Auth.js family: a copy of the app's configuration whose
 * adapter, callbacks, events, Credentials providers and logger also feed Authbus. The app's
 * own pieces keep running, with their results unchanged; the input object is never modified.
 */
import type { Authbus } from "../../../index.js";
import { wrapAdapter } from "./adapter.js";
import { wrapJwt, wrapSession, wrapSignIn } from "./callbacks.js";
import { wrapProviders } from "./credentials.js";
import { wrapEvents } from "./events.js";
import { createFamilyRuntime } from "./runtime.js";
import type { FamilyConfig, Flavor, WithAuthbusOptions } from "./types.js";

export function wrapFamilyConfig<C extends object>(config: C, bus: Authbus, flavor: Flavor, options: WithAuthbusOptions = {}): C {
  const c = config as unknown as FamilyConfig;
  const rt = createFamilyRuntime(c, bus, flavor, options);
  const wrapped: FamilyConfig = {
    ...c,
    events: wrapEvents(rt, c.events),
    callbacks: { ...c.callbacks, signIn: wrapSignIn(rt, c.callbacks?.signIn), jwt: wrapJwt(rt, c.callbacks?.jwt) },
    logger: flavor.wrapLogger(c.logger, (error) => void rt.sink.record("auth.error", { error }, rt.context())),
  };
  // Only wrapped when session reads are recorded: otherwise the library's own default stays in place.
  if (options.sessionAccessed) wrapped.callbacks!.session = wrapSession(rt, c.callbacks?.session);
  if (c.providers) wrapped.providers = wrapProviders(rt, c.providers);
  if (c.adapter) wrapped.adapter = wrapAdapter(rt, c.adapter);
  return wrapped as unknown as C;
}
