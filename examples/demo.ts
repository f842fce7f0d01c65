/**
 * `npm run demo`: records a short sign-up / sign-in story in ./authbus-demo.db, lets a durable
 * handler and NextAuth-style `events` react to it, then prints the audit log and its renderings.
 */
import { createAuthbus, renderCloudEventsStructured, renderAuth0 } from "../src/index.js";

const file = process.env.AUTHBUS_DEMO_DB ?? "./authbus-demo.db";
const bus = createAuthbus({
  database: `sqlite:${file}`,
  app: "demo",
  events: {
    signIn: ({ user, account, isNewUser }) => console.log(`  [events.signIn]  ${user.email} via ${account.provider} (new user: ${isNewUser})`),
  },
});
bus.on("authentication.**", (e) => console.log(`  [handler] failed sign-in recorded: ${e.type} (seq ${e.seq})`), { name: "security-alerts" });

const ada = { id: "usr_ada", standard_attributes: { email: "ada@example.com", email_verified: true, name: "Ada Lovelace" } };
const github = {
  id: "idn_github_ada",
  type: "oauth",
  claims: { email: "ada@example.com", "https://authgear.com/claims/oauth/provider_type": "github", "https://authgear.com/claims/oauth/subject_id": "583231" },
};
const ctx = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (demo)", preferred_languages: ["en-GB"] };

console.log(`Recording events in ${file} ...`);
await bus.emit("user.created", { user: ada, identities: [github] }, ctx);
await bus.emit("identity.oauth.connected", { user: ada, identity: github }, ctx);
await bus.emit("user.authenticated", { user: ada, session: { id: "ses_1", type: "idp" }, identity: github, is_new_user: true }, ctx, { await: true });
await bus.emit("authentication.primary.password.failed", { user: ada }, ctx, { await: true });
await bus.emit("user.signed_out", { user: ada, sessions: [{ id: "ses_1" }] }, ctx);

console.log("\nThe audit log (newest 10):");
const events = await bus.query({ limit: 1000 });
for (const e of events.slice(-10)) {
  console.log(`  #${e.seq}  ${new Date(e.context.timestamp * 1000).toISOString()}  ${e.type.padEnd(40)} user=${e.context.user_id ?? "-"} (subject_seq ${e.subject_seq ?? "-"})`);
}
const created = events.find((e) => e.type === "user.created")!;
console.log("\nuser.created as CloudEvents (structured):");
console.log(renderCloudEventsStructured(created).body);
const a0 = renderAuth0(created, { streamId: "demo-stream" });
console.log("\nuser.created as Auth0 Event Streams sees it:");
console.log(a0.ok ? a0.body : a0.reason);
await bus.close();
