-- A new version of a published resource: proposed by its author with a new file and metadata,
-- reviewed while the published one stays visible, and applied to the resource on approval (so
-- its links, favourites and ratings stay). `previous` keeps what an approval replaced.
ALTER TABLE resources ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

CREATE TABLE resource_versions (
    id            INTEGER PRIMARY KEY,
    resource_id   INTEGER NOT NULL REFERENCES resources (id),
    number        INTEGER NOT NULL,
    input         TEXT NOT NULL,
    blob_sha256   TEXT NOT NULL REFERENCES blobs (sha256),
    file_name     TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT,
    previous      TEXT,
    created_by    INTEGER NOT NULL REFERENCES people (id),
    created_at    INTEGER NOT NULL,
    reviewed_by   INTEGER REFERENCES people (id),
    reviewed_at   INTEGER,
    CONSTRAINT resource_versions_status_check CHECK (status IN ('pending', 'approved', 'rejected'))
);
CREATE UNIQUE INDEX resource_versions_number_key ON resource_versions (resource_id, number);
-- One proposal at a time per resource.
CREATE UNIQUE INDEX resource_versions_pending_key ON resource_versions (resource_id) WHERE status = 'pending';
CREATE INDEX resource_versions_status_idx ON resource_versions (status);
