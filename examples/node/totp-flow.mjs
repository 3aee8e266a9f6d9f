// The TOTP flow (service -> factor -> verify -> challenge), then an API key,
// with the official twilio-node library against verifyd. Only the base URL differs from code
// that talks to Twilio (verifyd.mjs).
//
//   VERIFYD_URL=http://127.0.0.1:4010 TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... node totp-flow.mjs
import { client as verifydClient, totp, check } from "./verifyd.mjs";

const client = verifydClient(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN);

const identity = "node-" + Math.random().toString(16).slice(2, 14);
const service = await client.verify.v2.services.create({ friendlyName: "Node example" });
check(service.sid.startsWith("VA") && service.totp.issuer === "Node example", "service created");

const factor = await client.verify.v2.services(service.sid).entities(identity).newFactors.create({
  friendlyName: "Alice's phone",
  factorType: "totp",
});
check(factor.status === "unverified" && factor.binding.uri.startsWith("otpauth://totp/"), "TOTP factor created with a binding");

const wrong = await client.verify.v2.services(service.sid).entities(identity).factors(factor.sid).update({ authPayload: "000000" === totp(factor.binding.secret) ? "111111" : "000000" });
check(wrong.status === "unverified", "a wrong code leaves the factor unverified");

const verified = await client.verify.v2.services(service.sid).entities(identity).factors(factor.sid).update({ authPayload: totp(factor.binding.secret) });
check(verified.status === "verified", "factor verified with the current code");

const challenge = await client.verify.v2.services(service.sid).entities(identity).challenges.create({
  factorSid: factor.sid,
  authPayload: totp(factor.binding.secret, 30, 1),
});
check(challenge.status === "approved", "challenge approved with the next code");

const pending = await client.verify.v2.services(service.sid).entities(identity).challenges.create({ factorSid: factor.sid });
check(pending.status === "pending", "challenge without a code is pending");

for (let i = 0; i < 3; i++) {
  await client.verify.v2.services(service.sid).entities(identity).challenges.create({ factorSid: factor.sid });
}
const listed = await client.verify.v2.services(service.sid).entities(identity).challenges.list({ pageSize: 2 });
check(listed.length === 5, "challenge list followed across 3 pages");

try {
  await client.verify.v2.services(service.sid).entities(identity).factors("YF00000000000000000000000000000000").fetch();
  check(false, "missing factor is an error");
} catch (err) {
  check(err.status === 404 && err.code === 20404, "missing factor is a RestException 404/20404");
}

await client.verify.v2.services(service.sid).remove();

// An API key in place of the auth token, as production code usually runs.
const key = await client.newKeys.create({ friendlyName: "node example" });
check(key.sid.startsWith("SK") && key.secret.length === 32, "API key created; its secret is shown once");
const byKey = verifydClient(key.sid, key.secret, { accountSid: process.env.TWILIO_ACCOUNT_SID });
const keyed = await byKey.verify.v2.services.create({ friendlyName: "By key" });
check(keyed.accountSid === process.env.TWILIO_ACCOUNT_SID, "a service created with the key belongs to its account");
const spare = await client.newKeys.create({ friendlyName: "spare" });
const keys = await client.keys.list({ pageSize: 1 });
check(keys.length === 2 && new Set(keys.map((k) => k.sid)).size === 2 && keys.every((k) => [key.sid, spare.sid].includes(k.sid)), "keys listed across 2 pages");
await client.keys(key.sid).remove();
await client.keys(spare.sid).remove();
try {
  await byKey.verify.v2.services(keyed.sid).fetch();
  check(false, "a deleted key is refused");
} catch (err) {
  check(err.status === 401 && err.code === 20003, "a deleted key is refused with 401/20003");
}
await client.verify.v2.services(keyed.sid).remove();
console.log("twilio-node TOTP flow: all checks passed");
