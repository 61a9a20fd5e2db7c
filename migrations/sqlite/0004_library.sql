-- Resource library: stored files (blobs), resumable uploads, textbook catalogues, resources, their
-- publications at each level of the org tree, and activity events (views, downloads).

-- Each distinct content is stored once, under its SHA-256, however often it is uploaded.
CREATE TABLE blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    format       TEXT NOT NULL,
    mime         TEXT NOT NULL,
    storage_key  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    CONSTRAINT blobs_size_check CHECK (size > 0)
);

-- An upload in progress. Its chunks are stored as separate files until completion, so any node
-- that shares the storage can continue it.
CREATE TABLE uploads (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES people (id),
    unit_id      INTEGER NOT NULL REFERENCES org_units (id),
    file_name    TEXT NOT NULL,
    size         INTEGER NOT NULL,
    chunk_size   INTEGER NOT NULL,
    status       TEXT NOT NULL,
    blob_sha256  TEXT REFERENCES blobs (sha256),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    CONSTRAINT uploads_size_check CHECK (size > 0 AND chunk_size > 0),
    CONSTRAINT uploads_status_check CHECK (status IN ('receiving', 'assembling', 'complete'))
);
CREATE INDEX uploads_owner_idx ON uploads (owner_id, status);
CREATE INDEX uploads_unit_idx ON uploads (unit_id, status);
CREATE INDEX uploads_expires_idx ON uploads (expires_at);

CREATE TABLE upload_chunks (
    upload_id    INTEGER NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (upload_id, idx)
);

-- Textbook catalogues: a textbook (stage, grade, subject, edition, volume) is a root node; its
-- chapters and sections hang below it. `path` is the materialised chain of ids, e.g. /12/40/41/.
CREATE TABLE catalogue_nodes (
    id           INTEGER PRIMARY KEY,
    parent_id    INTEGER REFERENCES catalogue_nodes (id),
    path         TEXT NOT NULL,
    stage        TEXT NOT NULL,
    grade        INTEGER NOT NULL,
    subject      TEXT NOT NULL,
    edition      TEXT NOT NULL,
    volume       TEXT NOT NULL,
    title        TEXT NOT NULL,
    position     INTEGER NOT NULL,
    CONSTRAINT catalogue_nodes_grade_check CHECK (grade > 0)
);
CREATE UNIQUE INDEX catalogue_nodes_path_key ON catalogue_nodes (path);
CREATE UNIQUE INDEX catalogue_nodes_parent_title_key ON catalogue_nodes (parent_id, title);
-- One textbook per stage, grade, subject, edition and volume.
CREATE UNIQUE INDEX catalogue_nodes_textbook_key ON catalogue_nodes (stage, grade, subject, edition, volume) WHERE parent_id IS NULL;

CREATE TABLE resources (
    id               INTEGER PRIMARY KEY,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    stage            TEXT NOT NULL,
    grade            INTEGER,
    subject          TEXT NOT NULL,
    edition          TEXT,
    volume           TEXT,
    chapter_id       INTEGER REFERENCES catalogue_nodes (id),
    resource_type    TEXT NOT NULL,
    language         TEXT NOT NULL,
    keywords         TEXT NOT NULL DEFAULT '',
    authors          TEXT NOT NULL DEFAULT '',
    licence          TEXT NOT NULL,
    duration_seconds INTEGER,
    page_count       INTEGER,
    -- The file; none for a record harvested from another platform, which links to its source.
    blob_sha256      TEXT REFERENCES blobs (sha256),
    file_name        TEXT NOT NULL,
    -- Provenance of a harvested record (源自 …): the platform, the record's page there, and its
    -- OAI identifier, which keeps a record from being harvested twice.
    source_name      TEXT,
    source_url       TEXT,
    source_identifier TEXT,
    owner_id         INTEGER NOT NULL REFERENCES people (id),
    unit_id          INTEGER NOT NULL REFERENCES org_units (id),
    unit_path        TEXT NOT NULL,
    status           TEXT NOT NULL,
    status_reason    TEXT,
    views            INTEGER NOT NULL DEFAULT 0,
    downloads        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    published_at     INTEGER,
    changed_ms       INTEGER NOT NULL,
    CONSTRAINT resources_status_check CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'taken_down')),
    CONSTRAINT resources_file_check CHECK (blob_sha256 IS NOT NULL OR source_url IS NOT NULL)
);
CREATE UNIQUE INDEX resources_source_identifier_key ON resources (source_identifier) WHERE source_identifier IS NOT NULL;
CREATE INDEX resources_owner_idx ON resources (owner_id, updated_at);
CREATE INDEX resources_unit_path_idx ON resources (unit_path);
CREATE INDEX resources_changed_idx ON resources (changed_ms);
CREATE INDEX resources_chapter_idx ON resources (chapter_id);

-- A resource published (or asked to be) at one org unit: its school, or a bureau above after a
-- recommendation. Everyone under `scope_path` sees it once approved.
CREATE TABLE publications (
    id            INTEGER PRIMARY KEY,
    resource_id   INTEGER NOT NULL REFERENCES resources (id),
    level         TEXT NOT NULL,
    scope_id      INTEGER NOT NULL REFERENCES org_units (id),
    scope_path    TEXT NOT NULL,
    status        TEXT NOT NULL,
    requested_by  INTEGER NOT NULL REFERENCES people (id),
    requested_at  INTEGER NOT NULL,
    reviewed_by   INTEGER REFERENCES people (id),
    reviewed_at   INTEGER,
    reason        TEXT,
    CONSTRAINT publications_level_check CHECK (level IN ('school', 'district', 'city', 'province')),
    CONSTRAINT publications_status_check CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn'))
);
CREATE UNIQUE INDEX publications_resource_scope_key ON publications (resource_id, scope_id);
CREATE INDEX publications_queue_idx ON publications (status, scope_path);

-- One small row per meaningful action; analytics rolls them up per day.
CREATE TABLE activity_events (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    person_id    INTEGER REFERENCES people (id),
    unit_path    TEXT NOT NULL,
    kind         TEXT NOT NULL,
    target_id    INTEGER
);
CREATE INDEX activity_events_at_idx ON activity_events (at);
CREATE INDEX activity_events_target_idx ON activity_events (kind, target_id);
