-- Rapid-test quotas per township and year (annex 4 of the Anxi plan), for
-- the township statistics; loaded with `agricert import quotas YEAR FILE`.
CREATE TABLE rapid_test_quota (
	region_code bigint NOT NULL REFERENCES region (code),
	year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	total integer NOT NULL CHECK (total >= 0),
	colloidal_gold integer NOT NULL DEFAULT 0,
	enzyme_inhibition integer NOT NULL DEFAULT 0,
	veterinary integer NOT NULL DEFAULT 0,
	PRIMARY KEY (region_code, year)
);
CREATE INDEX certificate_issued_at ON certificate (issued_at);
