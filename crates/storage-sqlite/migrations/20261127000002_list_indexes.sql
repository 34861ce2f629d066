-- Indexes that answer the two list queries from the index alone (found with `make bench`; see
-- BENCHMARKS.md). Kept equal to ../postgres.
--
-- Available numbers: the filter also reads number_type (and e164 for `contains`), so the old
-- index made COUNT(*) read every matching table row; with number_type in it, the count and the
-- page (ordered by e164) never leave the index.
DROP INDEX inventory_search;
CREATE INDEX inventory_search ON inventory_numbers (livemode, available, country, e164, number_type);

-- Assigned numbers: only rows that are not released, in list order, with the filter columns, so
-- the page walks the index newest first and COUNT(*) does not read the table (released_at, always
-- null here, is listed so that every SQLite version sees the index as covering).
CREATE INDEX phone_numbers_assigned
    ON phone_numbers (organization_id, livemode, created_at, id, country, number_type, released_at)
    WHERE released_at IS NULL;
