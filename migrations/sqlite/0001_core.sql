-- Core schema: org tree, school years, classes, people, roles, sessions, tokens, throttling, audit.
-- Instants are BIGINT Unix seconds (*_at), calendar days are DATE (*_on): see docs/decisions.md.

CREATE TABLE org_units (
    id            INTEGER PRIMARY KEY,
    parent_id     INTEGER REFERENCES org_units (id),
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL,
    code          TEXT,
    school_type   TEXT,
    urban_rural   TEXT,
    stages        TEXT NOT NULL DEFAULT '',
    path          TEXT NOT NULL,
    depth         INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    CONSTRAINT org_units_kind_check CHECK (kind IN ('province', 'city', 'district', 'school', 'teaching_point', 'office'))
);
CREATE UNIQUE INDEX org_units_code_key ON org_units (code);
CREATE UNIQUE INDEX org_units_path_key ON org_units (path);
CREATE INDEX org_units_parent_idx ON org_units (parent_id);

CREATE TABLE school_years (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    start_year  INTEGER NOT NULL,
    starts_on   DATE NOT NULL,
    ends_on     DATE NOT NULL,
    CONSTRAINT school_years_dates_check CHECK (starts_on < ends_on)
);
CREATE UNIQUE INDEX school_years_start_year_key ON school_years (start_year);

CREATE TABLE terms (
    id              INTEGER PRIMARY KEY,
    school_year_id  INTEGER NOT NULL REFERENCES school_years (id),
    name            TEXT NOT NULL,
    starts_on       DATE NOT NULL,
    ends_on         DATE NOT NULL,
    CONSTRAINT terms_dates_check CHECK (starts_on < ends_on)
);
CREATE UNIQUE INDEX terms_school_year_name_key ON terms (school_year_id, name);

CREATE TABLE classes (
    id           INTEGER PRIMARY KEY,
    school_id    INTEGER NOT NULL REFERENCES org_units (id),
    kind         TEXT NOT NULL,
    stage        TEXT NOT NULL,
    entry_year   INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    subject      TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CONSTRAINT classes_kind_check CHECK (kind IN ('administrative', 'teaching', 'elective')),
    CONSTRAINT classes_number_check CHECK (number > 0)
);
CREATE UNIQUE INDEX classes_school_kind_stage_entry_number_key ON classes (school_id, kind, stage, entry_year, number);
CREATE INDEX classes_school_idx ON classes (school_id);

CREATE TABLE people (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL,
    gender               TEXT,
    login                TEXT,
    phone                TEXT,
    student_number       TEXT,
    staff_number         TEXT,
    password_hash        TEXT,
    password_changed_at  INTEGER,
    locale               TEXT,
    totp_secret          TEXT,
    totp_enabled         INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'active',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CONSTRAINT people_gender_check CHECK (gender IN ('male', 'female')),
    CONSTRAINT people_status_check CHECK (status IN ('active', 'left'))
);
CREATE UNIQUE INDEX people_login_key ON people (login);
CREATE UNIQUE INDEX people_phone_key ON people (phone);
CREATE UNIQUE INDEX people_student_number_key ON people (student_number);
CREATE UNIQUE INDEX people_staff_number_key ON people (staff_number);

CREATE TABLE role_assignments (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people (id),
    role        TEXT NOT NULL,
    unit_id     INTEGER NOT NULL REFERENCES org_units (id),
    class_id    INTEGER REFERENCES classes (id),
    subject     TEXT,
    starts_on   DATE NOT NULL,
    ends_on     DATE,
    created_at  INTEGER NOT NULL,
    CONSTRAINT role_assignments_role_check CHECK (role IN ('region_admin', 'school_admin', 'auditor', 'researcher', 'reviewer', 'teacher', 'head_teacher', 'student', 'parent'))
);
CREATE INDEX role_assignments_person_idx ON role_assignments (person_id);
CREATE INDEX role_assignments_unit_idx ON role_assignments (unit_id, role);
CREATE INDEX role_assignments_class_idx ON role_assignments (class_id, role);

CREATE TABLE guardianships (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER NOT NULL REFERENCES people (id),
    student_id  INTEGER NOT NULL REFERENCES people (id),
    relation    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT guardianships_relation_check CHECK (relation IN ('father', 'mother', 'grandfather', 'grandmother', 'guardian'))
);
CREATE UNIQUE INDEX guardianships_parent_student_key ON guardianships (parent_id, student_id);
CREATE INDEX guardianships_student_idx ON guardianships (student_id);

CREATE TABLE sessions (
    id              INTEGER PRIMARY KEY,
    token_hash      TEXT NOT NULL,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    role_id         INTEGER REFERENCES role_assignments (id),
    csrf_token      TEXT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    second_factor   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE UNIQUE INDEX sessions_token_hash_key ON sessions (token_hash);
CREATE INDEX sessions_person_idx ON sessions (person_id);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES people (id),
    role_id       INTEGER NOT NULL REFERENCES role_assignments (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    scope         TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    CONSTRAINT api_tokens_scope_check CHECK (scope IN ('read', 'write'))
);
CREATE UNIQUE INDEX api_tokens_token_hash_key ON api_tokens (token_hash);
CREATE INDEX api_tokens_person_idx ON api_tokens (person_id);

CREATE TABLE login_throttle (
    throttle_key      TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL,
    first_failure_at  INTEGER NOT NULL,
    locked_until      INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_id     INTEGER,
    actor_name   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    action       TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    INTEGER,
    target_name  TEXT NOT NULL,
    scope_path   TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT,
    CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('success', 'failure'))
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_scope_idx ON audit_log (scope_path, at);
