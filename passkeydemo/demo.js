// The browser half of verifyd's passkeys demo: it asks the demo backend
// for WebAuthn options, hands them to navigator.credentials, and posts the
// credential back; the backend relays both ways to the Verify API. The
// options and credentials travel as WebAuthn's JSON (binary fields in
// base64url), which browsers convert natively where they can, and the
// small fallback below converts where they cannot.
"use strict";

const apiBase = "/dev/passkeys/api/";
const $ = (id) => document.getElementById(id);

// lastAssertion is the body of the last login/finish, kept so that the
// replay button can show the API refusing it a second time.
let lastAssertion = null;

function bufferFromB64url(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function b64urlFromBuffer(buf) {
  let bin = "";
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// native reports whether the browser has the WebAuthn JSON helpers
// (parse*OptionsFromJSON, toJSON); it is checked at each use and shown.
function native() {
  const yes =
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.prototype.toJSON === "function";
  $("json-mode").textContent = yes ? "native" : "fallback";
  return yes;
}

function descriptors(list) {
  return (list || []).map((c) => ({ ...c, id: bufferFromB64url(c.id) }));
}

function creationOptions(json) {
  if (native()) return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  return {
    ...json,
    challenge: bufferFromB64url(json.challenge),
    user: { ...json.user, id: bufferFromB64url(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

function requestOptions(json) {
  if (native()) return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  return {
    ...json,
    challenge: bufferFromB64url(json.challenge),
    allowCredentials: descriptors(json.allowCredentials),
  };
}

// credentialJSON is credential.toJSON(), or the same by hand.
function credentialJSON(cred) {
  if (native()) return cred.toJSON();
  const r = cred.response;
  const out = {
    id: cred.id,
    rawId: b64urlFromBuffer(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment,
    clientExtensionResults: cred.getClientExtensionResults(),
    response: { clientDataJSON: b64urlFromBuffer(r.clientDataJSON) },
  };
  if (r.attestationObject) {
    out.response.attestationObject = b64urlFromBuffer(r.attestationObject);
    out.response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    out.response.authenticatorData = b64urlFromBuffer(r.authenticatorData);
    out.response.signature = b64urlFromBuffer(r.signature);
    out.response.userHandle = r.userHandle ? b64urlFromBuffer(r.userHandle) : null;
  }
  return out;
}

// APIError is a non-2xx answer of the backend: the Verify API's Twilio
// error, relayed, or the backend's own.
class APIError extends Error {
  constructor(status, body) {
    const code = body && body.code ? ` (Twilio error ${body.code})` : "";
    super(`HTTP ${status}${code}: ${(body && body.message) || "no message"}`);
    this.status = status;
  }
}

async function post(call, body) {
  const res = await fetch(apiBase + call, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let json = null;
  try {
    json = await res.json();
  } catch (e) {
    // leave json null: the status says enough
  }
  if (!res.ok) throw new APIError(res.status, json);
  return json;
}

function showFactor(f) {
  $("factor-sid").textContent = f.sid || "";
  $("factor-status").textContent = f.status || "";
}

function showChallenge(c) {
  $("challenge-sid").textContent = c.sid || "";
  $("challenge-status").textContent = c.status || "";
  $("challenge-identity").textContent = c.identity || "";
  $("challenge-factor").textContent = c.factor_sid || "";
}

async function register() {
  showFactor({});
  const factor = await post("register/start", { identity: $("identity").value.trim() });
  showFactor(factor);
  const cred = await navigator.credentials.create({ publicKey: creationOptions(factor.options.publicKey) });
  showFactor(await post("register/finish", credentialJSON(cred)));
}

async function login(identity) {
  lastAssertion = null;
  $("replay").disabled = true;
  for (const id of ["replay-status", "replay-message"]) $(id).textContent = "";
  showChallenge({});
  const challenge = await post("login/start", identity ? { identity } : {});
  showChallenge(challenge);
  const cred = await navigator.credentials.get({ publicKey: requestOptions(challenge.options.publicKey) });
  const assertion = credentialJSON(cred);
  showChallenge(await post("login/finish", assertion));
  lastAssertion = assertion;
  $("replay").disabled = false;
}

// replay posts the last assertion again: the API must refuse it, since
// its challenge is answered already.
async function replay() {
  const res = await fetch(apiBase + "login/finish", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(lastAssertion),
  });
  const json = await res.json().catch(() => null);
  $("replay-status").textContent = String(res.status);
  $("replay-message").textContent = res.ok ? "accepted" : new APIError(res.status, json).message;
}

// run runs one action with the buttons disabled, shows its error, and
// counts it in body[data-done] so that a test can wait for its end.
async function run(action) {
  const buttons = document.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  $("error").textContent = "";
  try {
    await action();
  } catch (e) {
    $("error").textContent = e instanceof APIError ? e.message : `${e.name}: ${e.message}`;
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    $("replay").disabled = lastAssertion === null;
    document.body.dataset.done = String(Number(document.body.dataset.done) + 1);
  }
}

function start() {
  if (!window.isSecureContext || !window.PublicKeyCredential) {
    $("error").textContent =
      "This browser offers no WebAuthn here: open the page over https, or at http://localhost (not an IP address).";
  } else {
    native();
  }
  $("register").addEventListener("click", () => run(register));
  $("login-username").addEventListener("click", () =>
    run(() => {
      const identity = $("identity").value.trim();
      if (!identity) throw new Error("enter the identity to log in as");
      return login(identity);
    }),
  );
  $("login-discoverable").addEventListener("click", () => run(() => login("")));
  $("replay").addEventListener("click", () => run(replay));
}

start();
