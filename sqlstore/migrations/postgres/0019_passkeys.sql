-- 0019: passkeys factors and the logins that wait for one.
--
-- A passkeys factor keeps its config and, once verified, its credential
-- (COSE public key, signature counter, flags) as one JSON document in
-- passkey: an assertion reads and replaces it whole, in a compare-and-swap
-- on the document. passkey_credential_id is the credential ID in
-- base64url, unique within the service, as WebAuthn asks (a credential
-- registered twice would let one user sign in as another); it is also how
-- an assertion finds the factor that signed it.
ALTER TABLE factors ADD COLUMN passkey TEXT NULL;
ALTER TABLE factors ADD COLUMN passkey_credential_id TEXT NULL;
CREATE UNIQUE INDEX factors_passkey_credential ON factors (service_sid, passkey_credential_id)
	WHERE passkey_credential_id IS NOT NULL;

-- A passkeys challenge that names no factor yet (a login with a
-- discoverable credential, or for an entity with several passkeys) waits
-- here until a credential answers it; it then becomes an approved row of
-- challenges, whose entity and factor are known, and leaves this table
-- in the same transaction. The sweep deletes the expired ones.
CREATE TABLE passkey_logins (
	sid             TEXT PRIMARY KEY,
	account_sid     TEXT NOT NULL,
	service_sid     TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	entity_sid      TEXT NULL REFERENCES entities (sid) ON DELETE CASCADE,
	identity        TEXT NOT NULL,
	expiration_date BIGINT NOT NULL,
	date_created    BIGINT NOT NULL
);
CREATE INDEX passkey_logins_expiry ON passkey_logins (expiration_date);
CREATE INDEX passkey_logins_entity ON passkey_logins (entity_sid) WHERE entity_sid IS NOT NULL;
