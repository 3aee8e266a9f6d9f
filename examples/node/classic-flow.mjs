// Classic Verify with the official twilio-node library against verifyd in --dev
// mode: send a code by SMS, read it from the development inbox (where a test or
// a developer finds it, since nothing is really sent), and check it.
//
//   verifyd serve --dev
//   VERIFYD_URL=http://127.0.0.1:4010 TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... node classic-flow.mjs
import { base, client as verifydClient, check } from "./verifyd.mjs";

const sid = process.env.TWILIO_ACCOUNT_SID;
const token = process.env.TWILIO_AUTH_TOKEN;
const client = verifydClient(sid, token);
const to = "+14155552671";

const service = await client.verify.v2.services.create({ friendlyName: "Node shop" });
const verification = await client.verify.v2.services(service.sid).verifications.create({ to, channel: "sms" });
check(verification.status === "pending" && verification.sid.startsWith("VE") && verification.sendCodeAttempts.length === 1,
  "verification created, one send");

// The development inbox: a verifyd endpoint, not a Twilio one.
async function inboxCode() {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(new URL(`/_verifyd/dev/inbox?To=${encodeURIComponent(to)}`, base), {
      headers: { Authorization: "Basic " + Buffer.from(`${sid}:${token}`).toString("base64") },
    });
    const body = await res.json();
    if (body.messages.length > 0) return body.messages[0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no code in the development inbox");
}
const sent = await inboxCode();
check(sent.verification_sid === verification.sid && sent.text.includes(sent.code), `code read from the dev inbox: "${sent.text}"`);

const again = await client.verify.v2.services(service.sid).verifications.create({ to, channel: "sms" });
check(again.sid === verification.sid && again.sendCodeAttempts.length === 2, "a re-send keeps the SID and adds an attempt");

const wrong = await client.verify.v2.services(service.sid).verificationChecks.create({ to, code: sent.code === "0000" ? "1111" : "0000" });
check(wrong.status === "pending" && wrong.valid === false, "a wrong code leaves it pending");

const right = await client.verify.v2.services(service.sid).verificationChecks.create({ to, code: sent.code });
check(right.status === "approved" && right.valid === true, "the right code approves it");

try {
  await client.verify.v2.services(service.sid).verificationChecks.create({ to, code: sent.code });
  check(false, "a second check is an error");
} catch (err) {
  check(err.status === 404 && err.code === 20404, "a check of an approved verification is a RestException 404/20404");
}
await client.verify.v2.services(service.sid).remove();
