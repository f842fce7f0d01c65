/** A minimal cookie jar for driving auth flows with fetch/Request (one origin per jar). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    this.storeLines(res.headers.getSetCookie());
  }

  storeLines(lines: readonly string[]): void {
    for (const line of lines) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}
