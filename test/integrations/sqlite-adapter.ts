/**
 * The app's database in the Auth.js / NextAuth v4 tests: a small adapter on better-sqlite3 (the
 * adapter belongs to the app, not to Authbus). Extra user fields are kept in a JSON column.
 */
import Database from "better-sqlite3";

type Row = Record<string, unknown>;

export interface TestAdapterDb {
  db: Database.Database;
  users(): Row[];
  accounts(): Row[];
  sessions(): Row[];
}

const toDate = (v: unknown) => (v === null || v === undefined ? null : new Date(Number(v)));
const fromDate = (v: unknown) => (v instanceof Date ? v.getTime() : v === null || v === undefined ? null : Number(new Date(v as string)));

export function createSqliteAdapter(path: string) {
  const db = new Database(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, name TEXT, email TEXT UNIQUE, image TEXT, emailVerified INTEGER, extra TEXT NOT NULL DEFAULT '{}');
    CREATE TABLE IF NOT EXISTS accounts (provider TEXT, providerAccountId TEXT, userId TEXT, type TEXT, PRIMARY KEY (provider, providerAccountId));
    CREATE TABLE IF NOT EXISTS tokens (identifier TEXT, token TEXT, expires INTEGER, PRIMARY KEY (identifier, token));
    CREATE TABLE IF NOT EXISTS sessions (sessionToken TEXT PRIMARY KEY, userId TEXT, expires INTEGER);
  `);
  const toUser = (r: Row | undefined) => {
    if (!r) return null;
    const { extra, emailVerified, ...rest } = r;
    return { ...JSON.parse(String(extra)), ...rest, emailVerified: toDate(emailVerified) };
  };
  const getUser = (id: string) => toUser(db.prepare("SELECT * FROM users WHERE id = ?").get(id) as Row | undefined);
  let seq = 0;
  const adapter = {
    async createUser(user: Row) {
      const { id: _ignored, name, email, image, emailVerified, ...extra } = user;
      const id = `user_${++seq}_${Math.random().toString(36).slice(2, 8)}`;
      db.prepare("INSERT INTO users (id, name, email, image, emailVerified, extra) VALUES (?, ?, ?, ?, ?, ?)").run(id, name ?? null, email ?? null, image ?? null, fromDate(emailVerified), JSON.stringify(extra));
      return getUser(id);
    },
    async getUser(id: string) {
      return getUser(id);
    },
    async getUserByEmail(email: string) {
      return toUser(db.prepare("SELECT * FROM users WHERE email = ?").get(email) as Row | undefined);
    },
    async getUserByAccount({ provider, providerAccountId }: { provider: string; providerAccountId: string }) {
      const a = db.prepare("SELECT userId FROM accounts WHERE provider = ? AND providerAccountId = ?").get(provider, providerAccountId) as Row | undefined;
      return a ? getUser(String(a.userId)) : null;
    },
    async updateUser(user: Row) {
      const current = getUser(String(user.id));
      if (!current) throw new Error("no such user");
      const { id, name, email, image, emailVerified, ...extra } = { ...current, ...user };
      db.prepare("UPDATE users SET name = ?, email = ?, image = ?, emailVerified = ?, extra = ? WHERE id = ?").run(name ?? null, email ?? null, image ?? null, fromDate(emailVerified), JSON.stringify(extra), id);
      return getUser(String(id));
    },
    async deleteUser(id: string) {
      db.prepare("DELETE FROM users WHERE id = ?").run(id);
      db.prepare("DELETE FROM accounts WHERE userId = ?").run(id);
      db.prepare("DELETE FROM sessions WHERE userId = ?").run(id);
    },
    async linkAccount(account: Row) {
      db.prepare("INSERT INTO accounts (provider, providerAccountId, userId, type) VALUES (?, ?, ?, ?)").run(account.provider, account.providerAccountId, account.userId, account.type);
      return account;
    },
    async unlinkAccount({ provider, providerAccountId }: { provider: string; providerAccountId: string }) {
      const a = db.prepare("SELECT * FROM accounts WHERE provider = ? AND providerAccountId = ?").get(provider, providerAccountId) as Row | undefined;
      db.prepare("DELETE FROM accounts WHERE provider = ? AND providerAccountId = ?").run(provider, providerAccountId);
      return a;
    },
    async createSession(session: { sessionToken: string; userId: string; expires: Date }) {
      db.prepare("INSERT INTO sessions (sessionToken, userId, expires) VALUES (?, ?, ?)").run(session.sessionToken, session.userId, session.expires.getTime());
      return session;
    },
    async getSessionAndUser(sessionToken: string) {
      const s = db.prepare("SELECT * FROM sessions WHERE sessionToken = ?").get(sessionToken) as Row | undefined;
      if (!s) return null;
      const user = getUser(String(s.userId));
      return user ? { session: { sessionToken, userId: String(s.userId), expires: new Date(Number(s.expires)) }, user } : null;
    },
    async updateSession(session: { sessionToken: string; expires?: Date }) {
      if (session.expires) db.prepare("UPDATE sessions SET expires = ? WHERE sessionToken = ?").run(session.expires.getTime(), session.sessionToken);
      return null;
    },
    async createVerificationToken(t: { identifier: string; token: string; expires: Date }) {
      db.prepare("INSERT INTO tokens (identifier, token, expires) VALUES (?, ?, ?)").run(t.identifier, t.token, t.expires.getTime());
      return t;
    },
    async useVerificationToken({ identifier, token }: { identifier: string; token: string }) {
      const t = db.prepare("SELECT * FROM tokens WHERE identifier = ? AND token = ?").get(identifier, token) as Row | undefined;
      if (!t) return null;
      db.prepare("DELETE FROM tokens WHERE identifier = ? AND token = ?").run(identifier, token);
      return { identifier, token, expires: new Date(Number(t.expires)) };
    },
    async deleteSession(sessionToken: string) {
      // Like many real adapters, returns nothing.
      db.prepare("DELETE FROM sessions WHERE sessionToken = ?").run(sessionToken);
    },
  };
  const inspect: TestAdapterDb = {
    db,
    users: () => db.prepare("SELECT * FROM users").all() as Row[],
    accounts: () => db.prepare("SELECT * FROM accounts").all() as Row[],
    sessions: () => db.prepare("SELECT * FROM sessions").all() as Row[],
  };
  return { adapter, inspect };
}
