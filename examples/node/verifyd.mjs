// What both examples share: a twilio-node client whose only change from code
// that talks to Twilio is a RequestClient subclass that rewrites *.twilio.com to
// VERIFYD_URL (and refuses any other host, so nothing reaches the real API), an
// RFC 6238 code generator so no authenticator app is needed, and the check that
// prints each step.
import twilio from "twilio";
import { createHmac } from "node:crypto";

export const base = new URL(process.env.VERIFYD_URL ?? "http://127.0.0.1:4010");

class ToVerifyd extends twilio.RequestClient {
  request(opts) {
    const u = new URL(opts.uri);
    if (u.hostname.endsWith(".twilio.com")) {
      u.protocol = base.protocol;
      u.host = base.host;
    }
    if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) {
      throw new Error(`refusing non-loopback host ${u.hostname}`);
    }
    return super.request({ ...opts, uri: u.toString() });
  }
}

// client returns a twilio-node client for these credentials, pointed at verifyd.
export function client(username, password, opts = {}) {
  const c = twilio(username, password, { ...opts, httpClient: new ToVerifyd() });
  c.edge = c.region = undefined;
  return c;
}

// totp is the code of a base32 secret at the current time step (plus offset).
export function totp(secretB32, step = 30, offset = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretB32.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / step) + offset));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, "0");
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok  ${what}`);
}
