-- What people make of resources: favourites, 1-5 ratings (kept summed on the resource for
-- sorting), and comments that reviewers may hide.
ALTER TABLE resources ADD COLUMN rating_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN rating_sum INTEGER NOT NULL DEFAULT 0;

CREATE TABLE favourites (
    person_id    INTEGER NOT NULL REFERENCES people (id),
    resource_id  INTEGER NOT NULL REFERENCES resources (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (person_id, resource_id)
);
CREATE INDEX favourites_resource_idx ON favourites (resource_id);

CREATE TABLE ratings (
    person_id    INTEGER NOT NULL REFERENCES people (id),
    resource_id  INTEGER NOT NULL REFERENCES resources (id),
    stars        INTEGER NOT NULL,
    rated_at     INTEGER NOT NULL,
    PRIMARY KEY (person_id, resource_id),
    CONSTRAINT ratings_stars_check CHECK (stars BETWEEN 1 AND 5)
);
CREATE INDEX ratings_resource_idx ON ratings (resource_id);

CREATE TABLE comments (
    id             INTEGER PRIMARY KEY,
    resource_id    INTEGER NOT NULL REFERENCES resources (id),
    person_id      INTEGER NOT NULL REFERENCES people (id),
    body           TEXT NOT NULL,
    status         TEXT NOT NULL,
    hidden_by      INTEGER REFERENCES people (id),
    hidden_reason  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CONSTRAINT comments_status_check CHECK (status IN ('visible', 'hidden'))
);
CREATE INDEX comments_resource_idx ON comments (resource_id, id);
