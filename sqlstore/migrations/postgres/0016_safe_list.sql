-- 0016: the Safe List (GN), per account: numbers geo permissions never
-- block. The primary key is the lookup a create makes when a geo
-- permission would block it, and refuses a number listed twice (60411).
CREATE TABLE safe_numbers (
	account_sid  TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
	phone_number TEXT NOT NULL,
	sid          TEXT NOT NULL UNIQUE,
	date_created BIGINT NOT NULL,
	PRIMARY KEY (account_sid, phone_number)
);
