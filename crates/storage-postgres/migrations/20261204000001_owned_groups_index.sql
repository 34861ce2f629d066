-- The dashboard's summary of what an organization owns (issue 15): counted by country, type and
-- currency straight from this index, in its order (no table read, no sort; `released_at` is in it
-- so that SQLite reads nothing else).
CREATE INDEX phone_numbers_owned_groups
    ON phone_numbers (organization_id, livemode, country, number_type, currency, monthly_cost_cents, released_at)
    WHERE released_at IS NULL;
