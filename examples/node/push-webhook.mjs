// An FCM push credential and a webhook, with the official twilio-node library against
// verifyd (the same host-rewriting client as totp-flow.mjs, from verifyd.mjs): the
// credential is created, fetched without its secret and set on the service; a local
// receiver gets the signed challenge.approved event, checked with twilio.validateRequest.
//
//   VERIFYD_URL=http://127.0.0.1:4010 TWILIO_ACCOUNT_SID=AC... TWILIO_AUTH_TOKEN=... node push-webhook.mjs
import twilio from "twilio";
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import { client as verifydClient, totp, check } from "./verifyd.mjs";

const token = process.env.TWILIO_AUTH_TOKEN;
const client = verifydClient(process.env.TWILIO_ACCOUNT_SID, token);

// The receiver: resolves with the first POST to /hook.
let gotEvent;
const event = new Promise((resolve) => (gotEvent = resolve));
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    res.writeHead(200).end();
    if (req.method === "POST" && req.url === "/hook") gotEvent({ headers: req.headers, body });
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const hookUrl = `http://127.0.0.1:${server.address().port}/hook`;

try {
  const service = await client.verify.v2.services.create({ friendlyName: "Node push example" });

  // 1. An FCM credential from a service-account JSON with a fresh RSA key.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const secret = JSON.stringify({
    type: "service_account",
    project_id: "verifyd-node-example",
    client_email: "push@verifyd-node-example.iam.gserviceaccount.com",
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
  });
  const cred = await client.notify.v1.credentials.create({ type: "fcm", secret, friendlyName: "node fcm" });
  check(cred.sid.startsWith("CR") && cred.type === "fcm", "FCM credential created");
  const fetched = await client.notify.v1.credentials(cred.sid).fetch();
  check(fetched.friendlyName === "node fcm" && !JSON.stringify(fetched.toJSON()).includes("PRIVATE KEY") && fetched.secret === undefined,
    "credential fetched; no secret comes back");
  const withPush = await client.verify.v2.services(service.sid).update({ "push.fcmCredentialSid": cred.sid });
  check(withPush.push?.fcm_credential_sid === cred.sid, "credential set as the service's Push.FcmCredentialSid");

  // 2. A webhook to the local receiver.
  const hook = await client.verify.v2.services(service.sid).webhooks.create({
    friendlyName: "node receiver",
    eventTypes: ["challenge.approved"],
    webhookUrl: hookUrl,
  });
  check(hook.sid.startsWith("YW") && hook.status === "enabled", "webhook created for challenge.approved");

  // 3. Approve a TOTP challenge; the signed event arrives.
  const identity = "node-" + Math.random().toString(16).slice(2, 14);
  const entity = client.verify.v2.services(service.sid).entities(identity);
  const factor = await entity.newFactors.create({ friendlyName: "Alice's phone", factorType: "totp" });
  await entity.factors(factor.sid).update({ authPayload: totp(factor.binding.secret) });
  const challenge = await entity.challenges.create({ factorSid: factor.sid, authPayload: totp(factor.binding.secret, 30, 1) });
  check(challenge.status === "approved", "challenge approved");

  let timer;
  const got = await Promise.race([
    event,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("no webhook POST within 10 s")), 10000))),
  ]).finally(() => clearTimeout(timer));
  const params = Object.fromEntries(new URLSearchParams(got.body));
  check(twilio.validateRequest(token, got.headers["x-twilio-signature"], hookUrl, params), "webhook POST signature valid per twilio.validateRequest");
  check(!twilio.validateRequest(token, got.headers["x-twilio-signature"], hookUrl, { ...params, challenge_sid: "YC0" }), "a tampered parameter fails validation");
  check(params.type === "challenge.approved" && params.challenge_sid === challenge.sid && params.service_sid === service.sid,
    "event is challenge.approved for that challenge");

  // 4. List and delete the webhook and the credential.
  const hooks = await client.verify.v2.services(service.sid).webhooks.list();
  check(hooks.length === 1 && hooks[0].sid === hook.sid, "webhook listed");
  await client.verify.v2.services(service.sid).webhooks(hook.sid).remove();
  check((await client.verify.v2.services(service.sid).webhooks.list()).length === 0, "webhook deleted");
  await client.verify.v2.services(service.sid).update({ "push.fcmCredentialSid": "" });
  const creds = await client.notify.v1.credentials.list();
  check(creds.some((c) => c.sid === cred.sid), "credential listed");
  await client.notify.v1.credentials(cred.sid).remove();
  check(!(await client.notify.v1.credentials.list()).some((c) => c.sid === cred.sid), "credential deleted");
  await client.verify.v2.services(service.sid).remove();
  console.log("twilio-node push credential and webhook: all checks passed");
} finally {
  server.close();
}
