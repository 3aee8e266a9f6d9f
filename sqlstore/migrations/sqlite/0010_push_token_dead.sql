-- 0010: a push factor's notification token that APNs or FCM refused as
-- unregistered is marked dead (verify.PushFactor.TokenDead): no push goes
-- to it until the device sends a different token. 0 live, 1 dead.
ALTER TABLE factors ADD COLUMN push_token_dead INTEGER NOT NULL DEFAULT 0;
