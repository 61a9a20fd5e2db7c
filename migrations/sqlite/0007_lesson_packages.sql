-- Lesson packages (备课包): a teacher gathers resources for a chapter, in order, with a note on
-- each, and may share the package with the colleagues of their school.
CREATE TABLE lesson_packages (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES people (id),
    unit_id      INTEGER NOT NULL REFERENCES org_units (id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    stage        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    grade        INTEGER,
    chapter_id   INTEGER REFERENCES catalogue_nodes (id),
    shared       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX lesson_packages_owner_idx ON lesson_packages (owner_id, updated_at);
CREATE INDEX lesson_packages_unit_idx ON lesson_packages (unit_id, shared);

CREATE TABLE lesson_package_items (
    package_id   INTEGER NOT NULL REFERENCES lesson_packages (id) ON DELETE CASCADE,
    resource_id  INTEGER NOT NULL REFERENCES resources (id),
    position     INTEGER NOT NULL,
    note         TEXT NOT NULL,
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (package_id, resource_id)
);
CREATE INDEX lesson_package_items_resource_idx ON lesson_package_items (resource_id);
