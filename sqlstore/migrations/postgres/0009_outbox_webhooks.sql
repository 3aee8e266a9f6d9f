-- 0009: the outbox (verify.OutboxStore). Each asynchronous delivery is a
-- row written in the transaction of the change that causes it; notify.Worker
-- claims due rows, delivers them outside any transaction and records the
-- outcome. kind routes a row to its sender ('webhook' now, 'push' later);
-- payload is the sender's frozen snapshot, so there is no foreign key: a
-- factor.deleted event outlives its factor. Times are Unix milliseconds,
-- unlike the seconds elsewhere, because retries start seconds apart.
-- claim is the token of the last claim; a claim also moves
-- next_attempt_at to the end of its lease, so a dead node's rows come due
-- again by themselves. Delivered and dead rows stay for the operator until
-- pruned by date_updated.
CREATE TABLE outbox (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	ref             TEXT NOT NULL,
	payload         BYTEA NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at BIGINT NOT NULL,
	deadline        BIGINT NOT NULL,
	last_error      TEXT NOT NULL DEFAULT '',
	claim           TEXT NOT NULL DEFAULT '',
	date_created    BIGINT NOT NULL,
	date_updated    BIGINT NOT NULL
);
-- Claims read pending rows by due time; pruning and the operator's list
-- read by status and date_updated.
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_status_updated ON outbox (status, date_updated);

-- The Verify Webhooks resource (YW): where a service's events are posted.
-- event_types is a JSON array of strings. webhook_url is kept exactly as
-- given, since it is the signing input. Listed per service in
-- (date_created, sid) order; deleted with the service.
CREATE TABLE webhooks (
	sid           TEXT PRIMARY KEY,
	account_sid   TEXT NOT NULL,
	service_sid   TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	friendly_name TEXT NOT NULL,
	event_types   TEXT NOT NULL,
	webhook_url   TEXT NOT NULL,
	status        TEXT NOT NULL,
	version       TEXT NOT NULL,
	date_created  BIGINT NOT NULL,
	date_updated  BIGINT NOT NULL
);
CREATE INDEX webhooks_service_list ON webhooks (service_sid, date_created, sid);
