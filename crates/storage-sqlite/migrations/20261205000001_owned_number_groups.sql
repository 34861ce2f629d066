-- The dashboard's summary of what an organization owns (issue 15), kept up to date by the
-- database itself: one row per organization, mode, country, type and currency, changed by
-- triggers in the same transaction as every write to phone_numbers. Counting the numbers on
-- each page view instead (the GROUP BY this replaces) took time in proportion to how many the
-- organization owns: half of the page's time at 9,000 numbers.
--
-- SQLite only: it has one writer at a time, so a shared row costs nothing. On PostgreSQL the
-- same row would serialize an organization's concurrent purchases across processes (and could
-- deadlock two orders locking their groups in different orders); it keeps the GROUP BY.
CREATE TABLE owned_number_groups (
    organization_id    BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode           INTEGER NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL,
    currency           TEXT NOT NULL,
    count              INTEGER NOT NULL CHECK (count >= 0),
    monthly_cost_cents INTEGER NOT NULL,
    PRIMARY KEY (organization_id, livemode, country, number_type, currency)
) STRICT, WITHOUT ROWID;
-- A group whose last number went stays, at count 0 (readers skip it): one row per group ever
-- owned, and no second statement in every trigger to remove it.

INSERT INTO owned_number_groups
    SELECT organization_id, livemode, country, number_type, currency, COUNT(*), SUM(monthly_cost_cents)
    FROM phone_numbers WHERE released_at IS NULL
    GROUP BY organization_id, livemode, country, number_type, currency;

-- A number counts while it is not released.
CREATE TRIGGER owned_number_groups_on_insert AFTER INSERT ON phone_numbers
WHEN NEW.released_at IS NULL
BEGIN
    INSERT INTO owned_number_groups
        VALUES (NEW.organization_id, NEW.livemode, NEW.country, NEW.number_type, NEW.currency, 1, NEW.monthly_cost_cents)
        ON CONFLICT DO UPDATE SET count = count + 1, monthly_cost_cents = monthly_cost_cents + excluded.monthly_cost_cents;
END;

CREATE TRIGGER owned_number_groups_on_delete AFTER DELETE ON phone_numbers
WHEN OLD.released_at IS NULL
BEGIN
    UPDATE owned_number_groups SET count = count - 1, monthly_cost_cents = monthly_cost_cents - OLD.monthly_cost_cents
        WHERE organization_id = OLD.organization_id AND livemode = OLD.livemode AND country = OLD.country
          AND number_type = OLD.number_type AND currency = OLD.currency;
END;

-- A change of anything the summary is keyed or summed by: out of the old group (when it
-- counted), into the new one (when it counts).
CREATE TRIGGER owned_number_groups_on_update
AFTER UPDATE OF released_at, organization_id, livemode, country, number_type, currency, monthly_cost_cents ON phone_numbers
BEGIN
    UPDATE owned_number_groups SET count = count - 1, monthly_cost_cents = monthly_cost_cents - OLD.monthly_cost_cents
        WHERE OLD.released_at IS NULL
          AND organization_id = OLD.organization_id AND livemode = OLD.livemode AND country = OLD.country
          AND number_type = OLD.number_type AND currency = OLD.currency;
    INSERT INTO owned_number_groups
        SELECT NEW.organization_id, NEW.livemode, NEW.country, NEW.number_type, NEW.currency, 1, NEW.monthly_cost_cents
        WHERE NEW.released_at IS NULL
        ON CONFLICT DO UPDATE SET count = count + 1, monthly_cost_cents = monthly_cost_cents + excluded.monthly_cost_cents;
END;

-- Nothing reads the numbers this way any more.
DROP INDEX phone_numbers_owned_groups;
