-- A number's name, tags and deletion lock (PATCH /v1/phone-numbers/{id}: friendlyName, tags,
-- deletionLocked). Existing numbers get no name, no tags and no lock.
ALTER TABLE phone_numbers
    ADD COLUMN friendly_name text NOT NULL DEFAULT '' CHECK (char_length(friendly_name) <= 64),
    -- A JSON array of distinct tag strings (checked by the service: at most 10, [a-z0-9_-]{1,32}).
    ADD COLUMN tags jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    -- While set, release and delete are refused.
    ADD COLUMN deletion_locked boolean NOT NULL DEFAULT false;
-- `?tag=`: the organization's numbers carrying a tag (`tags @> '["tag"]'`).
CREATE INDEX phone_numbers_tags ON phone_numbers USING gin (tags jsonb_path_ops) WHERE released_at IS NULL;
