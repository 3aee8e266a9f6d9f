-- 0016: the Safe List (GN), per account, and the counters of the built-in
-- limits. A Safe List number is one geo permissions never
-- block. The primary key is the lookup a create makes when a geo
-- permission would block it, and refuses a number listed twice (60411).
CREATE TABLE safe_numbers (
	account_sid  TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
	phone_number TEXT NOT NULL,
	sid          TEXT NOT NULL UNIQUE,
	date_created INTEGER NOT NULL,
	PRIMARY KEY (account_sid, phone_number)
);

-- The counters of the built-in limits (status polls of a verification,
-- requests to the Attempts and Safe List APIs), kept as rate_counters
-- (0014) but keyed by a name of their own, with no bucket behind them.
CREATE TABLE throttle_counters (
	counter_key TEXT PRIMARY KEY,
	tat         INTEGER NOT NULL,
	emission    INTEGER NOT NULL,
	span        INTEGER NOT NULL,
	scale       INTEGER NOT NULL,
	idle_at     INTEGER NOT NULL
) WITHOUT ROWID;
