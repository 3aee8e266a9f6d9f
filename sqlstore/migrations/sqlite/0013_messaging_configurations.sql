-- 0013: the MessagingConfigurations of a service (verifications.md §7),
-- keyed by destination country (ISO alpha-2 in upper case, or all). The
-- primary key makes a second create for a country fail (60213) and serves
-- the lookup of every SMS create: the country and all, one index probe
-- each. Listed in (date_created, country) order; deleted with the
-- service. Times are Unix seconds.
CREATE TABLE messaging_configurations (
	service_sid           TEXT NOT NULL REFERENCES services (sid) ON DELETE CASCADE,
	country               TEXT NOT NULL,
	account_sid           TEXT NOT NULL,
	messaging_service_sid TEXT NOT NULL,
	date_created          INTEGER NOT NULL,
	date_updated          INTEGER NOT NULL,
	PRIMARY KEY (service_sid, country)
);
