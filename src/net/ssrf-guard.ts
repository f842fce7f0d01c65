/**
 * SSRF guard for every outgoing request the engine makes on a user's behalf (HTTP hooks, webhook
 * deliveries). Addresses are judged after DNS, at connect time, so a name that resolves to a
 * public address when registered and to 127.0.0.1 later (DNS rebinding) is still refused.
 * Only globally routable unicast addresses pass; the ranges come from ipaddr.js (IANA special
 * registries), plus the IPv6 forms that embed an IPv4 address.
 */
import dns from "node:dns";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { SsrfRefusedError } from "../core/errors.js";

export interface AddressVerdict {
  /** True when the address is public (globally routable unicast). */
  allowed: boolean;
  /** ipaddr.js range name (`loopback`, `private`, `linkLocal`, `carrierGradeNat`, `uniqueLocal`, ...) or `unicast`. */
  range: string;
  /** The address judged: IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry. */
  address: string;
}

/** Classifies an IP literal; anything that does not parse is refused (fail closed). */
export function classifyAddress(ip: string): AddressVerdict {
  const literal = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() turns ::ffff:a.b.c.d into a.b.c.d, so a mapped loopback is judged as loopback.
    parsed = ipaddr.process(literal);
  } catch {
    return { allowed: false, range: "unparseable", address: ip };
  }
  const address = parsed.toString();
  const range = parsed.range();
  if (range === "unicast" && parsed.kind() === "ipv6") {
    // ::a.b.c.d (deprecated IPv4-compatible) is "unicast" to ipaddr.js but carries an IPv4 address we cannot vouch for.
    if ((parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return { allowed: false, range: "ipv4Compatible", address };
  }
  // 6to4, Teredo and NAT64 (rfc6052) also embed IPv4 addresses; like Svix, refuse them outright.
  return { allowed: range === "unicast", range, address };
}

export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip).allowed;
}

/** Throws SsrfRefusedError unless `ip` is public. */
export function assertPublicAddress(ip: string): void {
  const v = classifyAddress(ip);
  if (!v.allowed) throw new SsrfRefusedError(v.address, v.range);
}

/** The host of a URL as an IP literal, or undefined when it is a name (resolved later). */
export function ipLiteralOf(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  return net.isIP(bare) !== 0 ? bare : undefined;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for net/tls.connect that drops non-public answers (as Svix does) and fails when none
 * remain. Passed to the socket itself, so the address checked is the address connected to.
 */
export function createGuardedLookup(resolve: typeof dns.lookup = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      const list = addresses as dns.LookupAddress[];
      const allowed = list.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0) {
        const first = list[0] ? classifyAddress(list[0].address) : { address: "no address", range: "empty answer" };
        return callback(new SsrfRefusedError(`${hostname} (${first.address})`, first.range) as unknown as NodeJS.ErrnoException, "");
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
