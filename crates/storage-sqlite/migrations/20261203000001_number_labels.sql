-- A number's name, tags and deletion lock (PATCH /v1/phone-numbers/{id}: friendlyName, tags,
-- deletionLocked). Existing numbers get no name, no tags and no lock.
ALTER TABLE phone_numbers ADD COLUMN friendly_name TEXT NOT NULL DEFAULT '' CHECK (length(friendly_name) <= 64);
-- A JSON array of distinct tag strings (checked by the service: at most 10, [a-z0-9_-]{1,32}).
ALTER TABLE phone_numbers ADD COLUMN tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array');
-- While set, release and delete are refused.
ALTER TABLE phone_numbers ADD COLUMN deletion_locked INTEGER NOT NULL DEFAULT 0 CHECK (deletion_locked IN (0, 1));
