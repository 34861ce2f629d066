-- Reservations (POST /v1/number-reservations): an organization holds inventory numbers for a
-- while, and nobody else can buy them meanwhile (see src/service/reservations.rs).
--
-- The hold itself is on the inventory row (`held_by`, `held_until`, `hold_id`), so the
-- purchase's one conditional UPDATE judges it with the sale, whatever the concurrency. A hold
-- is valid while `held_until` is in the future: expiry needs no job to be correct; the
-- housekeeping only clears expired holds and forgets old reservations. DELETE releases the
-- holds and removes the reservation.

CREATE TABLE number_reservations (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT;
CREATE INDEX number_reservations_by_org ON number_reservations (organization_id, livemode, created_at, id);
CREATE INDEX number_reservations_by_expiry ON number_reservations (expires_at);

-- The numbers a reservation asked for, in the order given.
CREATE TABLE number_reservation_items (
    reservation_id BLOB NOT NULL REFERENCES number_reservations (id) ON DELETE CASCADE,
    inventory_id   BLOB NOT NULL REFERENCES inventory_numbers (id),
    position       INTEGER NOT NULL,
    -- NULL while held; 'purchased' once the holder bought it under this hold; 'moved' when a
    -- newer reservation of the same organization took the hold over.
    outcome        TEXT CHECK (outcome IN ('purchased', 'moved')),
    PRIMARY KEY (reservation_id, inventory_id)
) STRICT;
CREATE INDEX number_reservation_items_by_inventory ON number_reservation_items (inventory_id);

ALTER TABLE inventory_numbers ADD COLUMN held_by BLOB;
ALTER TABLE inventory_numbers ADD COLUMN held_until TEXT;
ALTER TABLE inventory_numbers ADD COLUMN hold_id BLOB;

-- The search of numbers for sale also judges the holds without leaving the index.
DROP INDEX inventory_search;
CREATE INDEX inventory_search ON inventory_numbers (livemode, available, country, e164, number_type, held_until, held_by);
CREATE INDEX inventory_holds ON inventory_numbers (held_until) WHERE held_until IS NOT NULL;
CREATE INDEX inventory_by_hold ON inventory_numbers (hold_id) WHERE hold_id IS NOT NULL;
