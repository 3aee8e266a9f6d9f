// verifyd console: this browser as a Verify Push device.
//
// The page speaks to /v2 exactly as Twilio's Verify Push SDKs do
// (push-protocol.md), so that the server treats the browser as any other
// push factor and nothing here is a console shortcut: the console only
// hands out the enrollment access token, as an app's backend would. The
// ECDSA P-256 key is made by WebCrypto, non-extractable, and kept in
// IndexedDB (a CryptoKey is storable without its private half ever being
// readable), with the factor's SIDs, under the signed-in account's SID.
//
// For tests, #device-app carries data-state (loading, none, enrolled or
// unsupported) and data-polls, the number of challenge lists rendered.
'use strict';

(() => {
  const app = document.getElementById('device-app');
  if (!app) {
    return;
  }
  const $ = (id) => document.getElementById(id);
  const csrf = app.dataset.csrf;
  const account = app.dataset.account;

  // What the factor reports as its SDK and app (Config.SdkVersion and
  // Config.AppId). The platform is "none": a browser has no FCM or APNs
  // token, so it polls, as the SDK documents for that platform.
  const SDK_VERSION = 'verifyd-console-1';
  const APP_ID = 'verifyd-console';
  const JWT_LIFETIME = 600; // exp - nbf of a device JWT, as the SDKs mint it
  const POLL_MS = 3000;

  // ---- Encodings ---------------------------------------------------------

  const utf8 = new TextEncoder();

  function base64(bytes) {
    let s = '';
    for (const b of bytes) {
      s += String.fromCharCode(b);
    }
    return btoa(s);
  }

  function base64url(bytes) {
    return base64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // formEncode is Android's Uri.Builder.appendQueryParameter: every byte
  // but A-Z a-z 0-9 _-!.~'()* percent-encoded, which is exactly the set
  // encodeURIComponent leaves alone.
  function formEncode(pairs) {
    return pairs.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(v)).join('&');
  }

  // derSignature turns WebCrypto's ECDSA signature, raw r||s as JWS wants
  // it, into the ASN.1 DER SEQUENCE of two INTEGERs that verify factor
  // takes (the SDKs send the platform's DER signature there, not a JWS).
  function derSignature(raw) {
    const integer = (half) => {
      let i = 0;
      while (i < half.length - 1 && half[i] === 0) {
        i++;
      }
      const v = Array.from(half.slice(i));
      if (v[0] & 0x80) {
        v.unshift(0); // keep it positive
      }
      return [0x02, v.length, ...v];
    };
    const body = [...integer(raw.slice(0, 32)), ...integer(raw.slice(32))];
    return Uint8Array.from([0x30, body.length, ...body]); // at most 70 bytes: a short length
  }

  const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };

  async function sign(key, text) {
    return new Uint8Array(await crypto.subtle.sign(ecdsa, key, utf8.encode(text)));
  }

  // signJWT is a compact ES256 JWS of two JSON texts given as strings, so
  // that their members keep the order the SDK writes them in.
  async function signJWT(key, header, payload) {
    const input = base64url(utf8.encode(header)) + '.' + base64url(utf8.encode(payload));
    return input + '.' + base64url(await sign(key, input));
  }

  // deviceJWT is the Basic-auth password of every device call but create
  // factor: kid the credential SID, sub the account, nbf now (no iat) on
  // the device's clock corrected by what a 401's Date taught it.
  function deviceJWT(d) {
    const now = Math.floor(Date.now() / 1000) + (d.clockCorrection || 0);
    return signJWT(d.privateKey,
      JSON.stringify({ cty: 'twilio-pba;v=1', kid: d.credentialSid, typ: 'JWT', alg: 'ES256' }),
      JSON.stringify({ sub: d.accountSid, exp: now + JWT_LIFETIME, nbf: now }));
  }

  // signedPayload is the AuthPayload's payload as the SDK builds it: each
  // field named by Twilio-Verify-Signature-Fields copied as the JSON value
  // the GET returned (a missing one is an error), then status, which takes
  // the place of a listed status. Written by hand, not from an object, to
  // keep that order whatever the field names are.
  function signedPayload(challenge, fields, status) {
    const keys = [];
    const values = new Map();
    const put = (k, json) => {
      if (!values.has(k)) {
        keys.push(k);
      }
      values.set(k, json);
    };
    for (const f of fields) {
      if (!Object.hasOwn(challenge, f)) {
        throw new Error(`signature field "${f}" is not in the challenge`);
      }
      put(f, JSON.stringify(challenge[f]));
    }
    put('status', JSON.stringify(status));
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + values.get(k)).join(',') + '}';
  }

  // ---- The device record in IndexedDB -----------------------------------

  const DB_NAME = 'verifyd-console-device';
  const STORE = 'devices';

  function openDB() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function inStore(mode, fn) {
    const db = await openDB();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = fn(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
      });
    } finally {
      db.close();
    }
  }

  const loadDevice = () => inStore('readonly', (s) => s.get(account));
  const storeDevice = (d) => inStore('readwrite', (s) => s.put(d, account));
  const deleteDevice = () => inStore('readwrite', (s) => s.delete(account));

  // device is the enrolled device shown, or null. A call that ends after
  // the device was forgotten must not write it back or render for it.
  let device = null;

  async function persist(d) {
    if (d === device) {
      await storeDevice(d);
    }
  }

  // ---- The Verify API, as the SDK calls it ------------------------------

  class APIError extends Error {
    constructor(status, body, date) {
      let code = 0;
      let message = body.trim().slice(0, 200);
      try {
        const e = JSON.parse(body);
        if (Number.isInteger(e.code)) {
          code = e.code;
          message = String(e.message);
        }
      } catch (_) {
        // not a Twilio error body: keep the text
      }
      super(code ? `HTTP ${status}: Twilio error ${code}: ${message}` : `HTTP ${status}: ${message}`);
      this.status = status;
      this.code = code;
      this.date = date;
    }
  }

  // send makes one request with the SDK's headers: Basic "token" and the
  // password, the form as the body of a POST or the query of a GET. It
  // sends no cookies (credentials: omit), which also keeps the browser
  // from prompting for a password on a 401 with WWW-Authenticate.
  async function send(method, path, password, pairs) {
    const headers = {
      Authorization: 'Basic ' + btoa('token:' + password),
      Accept: method === 'GET' ? 'application/x-www-form-urlencoded' : 'application/json', // sic, as the SDK
      'Content-Type': 'application/x-www-form-urlencoded',
    };
    let url = '/v2/' + path;
    let body;
    if (pairs && pairs.length) {
      if (method === 'GET') {
        url += '?' + formEncode(pairs);
      } else {
        body = formEncode(pairs);
      }
    }
    const resp = await fetch(url, { method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error' });
    const text = await resp.text();
    if (resp.status >= 300) {
      throw new APIError(resp.status, text, resp.headers.get('Date'));
    }
    return { headers: resp.headers, json: text ? JSON.parse(text) : null };
  }

  // call is a device-JWT request with the SDK's clock synchronisation: on
  // a 401 with a Date header, keep server time minus device time and retry
  // once with a new JWT. A second 401 is an error, except for delete
  // (secondUnauthorizedOK), where the SDK counts it as done.
  async function call(d, method, path, pairs, secondUnauthorizedOK) {
    for (let retries = 1; ; retries--) {
      try {
        return await send(method, path, await deviceJWT(d), pairs);
      } catch (e) {
        if (!(e instanceof APIError) || e.status !== 401) {
          throw e;
        }
        if (retries === 0) {
          if (secondUnauthorizedOK) {
            return null;
          }
          throw e;
        }
        const server = Date.parse(e.date || '');
        if (Number.isNaN(server)) {
          throw e;
        }
        d.clockCorrection = Math.floor(server / 1000) - Math.floor(Date.now() / 1000);
        await persist(d);
      }
    }
  }

  const entityPath = (d) => `Services/${d.serviceSid}/Entities/${d.identity}`;
  const factorPath = (d) => `${entityPath(d)}/Factors/${d.factorSid}`;

  // consoleToken asks the console, as an app asks its backend, for an
  // enrollment access token bound to a service and identity.
  async function consoleToken(service, identity) {
    const resp = await fetch('/console/device/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ service, identity }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const text = await resp.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch (_) {
      // the console's plain-text refusals: signed out, CSRF
    }
    if (!resp.ok) {
      const why = body && body.message ? body.message + (body.code ? ` (${body.code})` : '') : text.trim();
      throw new Error(`access token: HTTP ${resp.status}: ${why}`);
    }
    return body;
  }

  // enroll is PushFactory.create and verify: a new key pair, create factor
  // with the access token, keep the device, then prove the key.
  async function enroll(service, identity) {
    const token = await consoleToken(service, identity);
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    const d = { serviceSid: token.service_sid, identity: token.identity, privateKey: keys.privateKey, clockCorrection: 0 };
    const { json: f } = await send('POST', entityPath(d) + '/Factors', token.token, [
      ['FriendlyName', token.factor_friendly_name || 'Browser'],
      ['FactorType', 'push'],
      ['Binding.PublicKey', base64(spki)],
      ['Binding.Alg', 'ES256'],
      ['Config.SdkVersion', SDK_VERSION],
      ['Config.AppId', APP_ID],
      ['Config.NotificationPlatform', 'none'],
    ]);
    if (!f || typeof f.sid !== 'string' || typeof f.account_sid !== 'string' || !f.config || typeof f.config.credential_sid !== 'string') {
      throw new Error('create factor: the answer lacks sid, account_sid or config.credential_sid');
    }
    Object.assign(d, {
      factorSid: f.sid, accountSid: f.account_sid, credentialSid: f.config.credential_sid,
      friendlyName: f.friendly_name, status: f.status === 'verified' ? 'verified' : 'unverified',
    });
    device = d;
    await persist(d);
    await verifyFactor(d);
  }

  // verifyFactor signs the factor SID; verify factor takes that signature
  // as standard base64 of DER, not as a JWT.
  async function verifyFactor(d) {
    const sig = derSignature(await sign(d.privateKey, d.factorSid));
    const { json } = await call(d, 'POST', factorPath(d), [['AuthPayload', base64(sig)]]);
    d.status = json && json.status === 'verified' ? 'verified' : 'unverified';
    await persist(d);
  }

  function pending(d) {
    return call(d, 'GET', entityPath(d) + '/Challenges',
      [['PageSize', '50'], ['FactorSid', d.factorSid], ['Order', 'desc'], ['Status', 'pending']]);
  }

  // answer is PushChallengeProcessor.update: GET the challenge and its
  // signature fields, check it locally, sign, POST, and GET again to see
  // the new status.
  async function answer(d, sid, approve) {
    const want = approve ? 'approved' : 'denied';
    const path = entityPath(d) + '/Challenges/' + sid;
    const { headers, json: ch } = await call(d, 'GET', path);
    if (ch.factor_sid !== d.factorSid) {
      throw new Error(`${sid} belongs to another factor`);
    }
    if (ch.status === 'expired') {
      throw new Error(`${sid} has expired`);
    }
    if (ch.status !== 'pending') {
      throw new Error(`${sid} is already ${ch.status}`);
    }
    const list = headers.get('Twilio-Verify-Signature-Fields');
    if (!list) {
      throw new Error(`${sid} has no Twilio-Verify-Signature-Fields: it cannot be answered`);
    }
    const authPayload = await signJWT(d.privateKey, JSON.stringify({ typ: 'JWT', alg: 'ES256' }),
      signedPayload(ch, list.split(','), want));
    await call(d, 'POST', path, [['AuthPayload', authPayload]]);
    const { json: after } = await call(d, 'GET', path);
    if (after.status !== want) {
      throw new Error(`${sid} reads ${after.status} after the answer, not ${want}`);
    }
  }

  // forget deletes the factor with its own JWT, then the record: 404 and
  // a second 401 mean the server no longer has it, as for the SDK.
  async function forget(d) {
    try {
      await call(d, 'DELETE', factorPath(d), null, true);
    } catch (e) {
      if (!(e instanceof APIError) || e.status !== 404) {
        throw e;
      }
    }
    device = null;
    await deleteDevice();
  }

  // ---- The page ----------------------------------------------------------

  function log(message, isError) {
    const el = $('device-log');
    el.textContent = message;
    el.className = isError ? 'error' : 'muted';
  }

  const date = (s) => (typeof s === 'string' ? s.replace('T', ' ').replace(/Z$/, '') : '');

  function show() {
    app.dataset.state = device ? 'enrolled' : 'none';
    $('device-enroll-card').hidden = !!device;
    $('device-card').hidden = !device;
    if (!device) {
      $('device-challenges').tBodies[0].replaceChildren();
      return;
    }
    $('device-factor-sid').textContent = device.factorSid;
    $('device-status').textContent = device.status;
    $('device-status').className = 'badge ' + device.status;
    $('device-service-sid').textContent = device.serviceSid;
    $('device-entity').textContent = device.identity;
    $('device-name').textContent = device.friendlyName || '';
    $('device-verify-wrap').hidden = device.status === 'verified';
  }

  function cell(tr, text, className) {
    const td = tr.insertCell();
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    return td;
  }

  function challengeRow(ch) {
    const tr = document.createElement('tr');
    tr.dataset.challengeSid = ch.sid;
    const details = ch.details || {};
    cell(tr, date(ch.date_created));
    cell(tr, details.message || '', 'message');
    const fields = cell(tr, '', 'fields');
    for (const f of details.fields || []) {
      const line = document.createElement('div');
      const label = document.createElement('span');
      label.className = 'muted';
      label.textContent = f.label + ': ';
      line.append(label, String(f.value));
      fields.append(line);
    }
    cell(tr, date(ch.expiration_date));
    cell(tr, ch.sid, 'sid');
    const actions = tr.insertCell();
    for (const [cls, text] of [['approve', 'Approve'], ['deny', 'Deny']]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'small ' + cls;
      b.textContent = text;
      actions.append(b);
    }
    return tr;
  }

  // renderChallenges keeps the rows of challenges still pending as they
  // are, so that a poll never replaces a button under the pointer.
  function renderChallenges(challenges) {
    const body = $('device-challenges').tBodies[0];
    const rows = new Map([...body.querySelectorAll('tr[data-challenge-sid]')].map((tr) => [tr.dataset.challengeSid, tr]));
    const next = challenges.map((ch) => rows.get(ch.sid) || challengeRow(ch));
    if (next.length === 0) {
      const tr = document.createElement('tr');
      cell(tr, 'No pending challenge.', 'muted').colSpan = 6;
      next.push(tr);
    }
    body.replaceChildren(...next);
    app.dataset.polls = String(Number(app.dataset.polls || 0) + 1);
  }

  // listings counts the listings asked for and shown is the newest one
  // drawn: a poll and a click of Refresh can be in flight together, and an
  // answer that comes back after a newer one must not draw an older list
  // (a challenge would vanish and come back as a new row).
  let listings = 0;
  let shown = 0;

  async function refresh(manual) {
    const d = device;
    if (!d) {
      return;
    }
    const n = ++listings;
    try {
      const { json } = await pending(d);
      if (d !== device || n < shown) {
        return;
      }
      shown = n;
      const list = (json && json.challenges) || [];
      renderChallenges(list);
      if (manual) {
        log(`Refreshed: ${list.length} pending.`);
      }
    } catch (e) {
      if (d === device) {
        log(`Listing challenges: ${e.message}`, true);
      }
    }
  }

  let timer = 0;

  function schedule() {
    clearTimeout(timer);
    if (device) {
      timer = setTimeout(async () => {
        await refresh(false);
        schedule();
      }, POLL_MS);
    }
  }

  async function start() {
    app.dataset.polls = '0';
    if (!window.isSecureContext || !window.crypto || !crypto.subtle || !window.indexedDB) {
      app.dataset.state = 'unsupported';
      log('This page needs WebCrypto and IndexedDB, which browsers give only to a secure context: open the console over HTTPS, or at http://localhost.', true);
      return;
    }
    try {
      const d = await loadDevice();
      if (d && d.privateKey instanceof CryptoKey && d.factorSid && d.credentialSid) {
        device = d;
      }
    } catch (e) {
      log(`Reading the device from IndexedDB: ${e.message}`, true);
    }
    show();
    if (device) {
      log(`Restored factor ${device.factorSid}.`);
      await refresh(false);
      schedule();
    }
  }

  // busy runs one action of a button at a time.
  let busy = false;

  async function act(button, fn) {
    if (busy) {
      return;
    }
    busy = true;
    if (button) {
      button.disabled = true;
    }
    try {
      await fn();
    } catch (e) {
      log(e.message, true);
    } finally {
      busy = false;
      if (button) {
        button.disabled = false;
      }
    }
  }

  const form = $('device-enroll-form');
  if (form) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act($('device-enroll'), async () => {
        const service = $('device-service').value;
        const identity = $('device-identity').value.trim();
        log(`Enrolling as ${identity}…`);
        try {
          await enroll(service, identity);
        } finally {
          show();
          schedule(); // a factor left unverified is still shown and polled
        }
        log(device.status === 'verified'
          ? `Enrolled and verified factor ${device.factorSid}.`
          : `Enrolled factor ${device.factorSid}, but it is not verified.`, device.status !== 'verified');
        await refresh(false);
      });
    });
  }

  $('device-refresh').addEventListener('click', (event) => act(event.currentTarget, () => refresh(true)));

  $('device-verify').addEventListener('click', (event) => act(event.currentTarget, async () => {
    await verifyFactor(device);
    show();
    log(`Factor ${device.factorSid} is ${device.status}.`, device.status !== 'verified');
  }));

  $('device-forget').addEventListener('click', (event) => {
    if (!window.confirm('Delete this factor on the server and forget its key here?')) {
      return;
    }
    act(event.currentTarget, async () => {
      const sid = device.factorSid;
      await forget(device);
      clearTimeout(timer);
      show();
      log(`Deleted factor ${sid} and forgot its key.`);
    });
  });

  $('device-challenges').addEventListener('click', (event) => {
    const button = event.target.closest('button.approve, button.deny');
    const row = button && button.closest('tr[data-challenge-sid]');
    if (!row) {
      return;
    }
    const approve = button.classList.contains('approve');
    const sid = row.dataset.challengeSid;
    act(button, async () => {
      const d = device;
      await answer(d, sid, approve);
      if (d === device) {
        row.remove();
      }
      log(`Challenge ${sid} ${approve ? 'approved' : 'denied'}.`);
      await refresh(false);
    });
  });

  start();
})();
