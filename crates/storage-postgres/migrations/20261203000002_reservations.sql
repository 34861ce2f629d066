-- Reservations (POST /v1/number-reservations): an organization holds inventory numbers for a
-- while, and nobody else can buy them meanwhile (see src/service/reservations.rs).
--
-- The hold itself is on the inventory row (`held_by`, `held_until`, `hold_id`), so the
-- purchase's one conditional UPDATE judges it with the sale, whatever the concurrency. A hold
-- is valid while `held_until` is after the database's `now()`: expiry needs no job to be
-- correct; the housekeeping only clears expired holds and forgets old reservations. DELETE
-- releases the holds and removes the reservation.

CREATE TABLE number_reservations (
    id              uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        boolean NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX number_reservations_by_org ON number_reservations (organization_id, livemode, created_at, id);
CREATE INDEX number_reservations_by_expiry ON number_reservations (expires_at);

CREATE TYPE reservation_item_outcome AS ENUM ('purchased', 'moved');

-- The numbers a reservation asked for, in the order given.
CREATE TABLE number_reservation_items (
    reservation_id uuid NOT NULL REFERENCES number_reservations (id) ON DELETE CASCADE,
    inventory_id   uuid NOT NULL REFERENCES inventory_numbers (id),
    position       integer NOT NULL,
    -- NULL while held; 'purchased' once the holder bought it under this hold; 'moved' when a
    -- newer reservation of the same organization took the hold over.
    outcome        reservation_item_outcome,
    PRIMARY KEY (reservation_id, inventory_id)
);
CREATE INDEX number_reservation_items_by_inventory ON number_reservation_items (inventory_id);

ALTER TABLE inventory_numbers
    ADD COLUMN held_by uuid,
    ADD COLUMN held_until timestamptz,
    ADD COLUMN hold_id uuid;

-- The search of numbers for sale also judges the holds without leaving the index.
DROP INDEX inventory_search;
CREATE INDEX inventory_search ON inventory_numbers (livemode, available, country, e164, number_type, held_until, held_by);
CREATE INDEX inventory_holds ON inventory_numbers (held_until) WHERE held_until IS NOT NULL;
CREATE INDEX inventory_by_hold ON inventory_numbers (hold_id) WHERE hold_id IS NOT NULL;
