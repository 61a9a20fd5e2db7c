-- Other platforms' OAI-PMH repositories this region harvests on a schedule. Their records become
-- resources that link to the source, waiting in the top unit's review queue. The stage, subject,
-- type and licence here are used when a record does not say.
CREATE TABLE harvest_sources (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    base_url         TEXT NOT NULL,
    set_spec         TEXT NOT NULL DEFAULT '',
    stage            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    resource_type    TEXT NOT NULL,
    licence          TEXT NOT NULL,
    interval_hours   INTEGER NOT NULL,
    owner_id         INTEGER NOT NULL REFERENCES people (id),
    unit_id          INTEGER NOT NULL REFERENCES org_units (id),
    last_run_at      INTEGER,
    last_datestamp   TEXT,
    last_result      TEXT,
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX harvest_sources_url_key ON harvest_sources (base_url, set_spec);
