-- Rostering: official headcounts, activation codes, import jobs and the problems they found.

-- 教育统计 headcounts per school and statistics year, the denominator of 归校归班 rates.
CREATE TABLE headcounts (
    id                     INTEGER PRIMARY KEY,
    school_id              INTEGER NOT NULL REFERENCES org_units (id),
    year                   INTEGER NOT NULL,
    teachers               INTEGER NOT NULL,
    students               INTEGER NOT NULL,
    administrative_classes INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    CONSTRAINT headcounts_counts_check CHECK (teachers >= 0 AND students >= 0 AND administrative_classes >= 0)
);
CREATE UNIQUE INDEX headcounts_school_year_key ON headcounts (school_id, year);

-- One live code per person: issuing a new one replaces the old. Only a hash is kept.
CREATE TABLE activation_codes (
    person_id   INTEGER PRIMARY KEY REFERENCES people (id),
    code_hash   TEXT NOT NULL,
    issued_by   INTEGER REFERENCES people (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX activation_codes_code_hash_key ON activation_codes (code_hash);

-- Activation (first password) is when an account counts as activated in the statistics.
ALTER TABLE people ADD COLUMN activated_at INTEGER;

CREATE TABLE import_jobs (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    unit_id          INTEGER NOT NULL REFERENCES org_units (id),
    created_by       INTEGER REFERENCES people (id),
    file_name        TEXT NOT NULL,
    file_path        TEXT NOT NULL,
    sheet            TEXT,
    dry_run          INTEGER NOT NULL DEFAULT 0,
    valid_rows_only  INTEGER NOT NULL DEFAULT 0,
    mark_missing_left INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,
    phase            TEXT NOT NULL DEFAULT 'validating',
    total_rows       INTEGER NOT NULL DEFAULT 0,
    processed_rows   INTEGER NOT NULL DEFAULT 0,
    progress_done    INTEGER NOT NULL DEFAULT 0,
    progress_total   INTEGER NOT NULL DEFAULT 0,
    error_rows       INTEGER NOT NULL DEFAULT 0,
    created          INTEGER NOT NULL DEFAULT 0,
    updated          INTEGER NOT NULL DEFAULT 0,
    unchanged        INTEGER NOT NULL DEFAULT 0,
    moved            INTEGER NOT NULL DEFAULT 0,
    missing          INTEGER NOT NULL DEFAULT 0,
    marked_left      INTEGER NOT NULL DEFAULT 0,
    notices          TEXT NOT NULL DEFAULT '[]',
    failure          TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    heartbeat_at     INTEGER,
    finished_at      INTEGER,
    CONSTRAINT import_jobs_kind_check CHECK (kind IN ('schools', 'classes', 'teachers', 'students', 'parents', 'headcounts')),
    CONSTRAINT import_jobs_status_check CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    CONSTRAINT import_jobs_phase_check CHECK (phase IN ('validating', 'applying', 'finished'))
);
CREATE INDEX import_jobs_unit_idx ON import_jobs (unit_id, created_at);

-- What a job found: row errors (kept up to a cap per job) and people missing from a full-school file.
CREATE TABLE import_problems (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES import_jobs (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    sheet       TEXT NOT NULL,
    row_number  INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    value       TEXT NOT NULL,
    message_key TEXT NOT NULL,
    args        TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT import_problems_kind_check CHECK (kind IN ('error', 'missing'))
);
CREATE INDEX import_problems_job_idx ON import_problems (job_id, kind, row_number);

-- Per-school roster figures, recomputed from the base tables whenever a school's roster changes,
-- so that region-wide statistics over millions of people read a few thousand rows.
CREATE TABLE school_roster_counts (
    school_id               INTEGER PRIMARY KEY REFERENCES org_units (id),
    teachers                INTEGER NOT NULL,
    students                INTEGER NOT NULL,
    students_placed         INTEGER NOT NULL,
    parents                 INTEGER NOT NULL,
    administrative_classes  INTEGER NOT NULL,
    accounts                INTEGER NOT NULL,
    activated               INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL
);

-- Most people have only one of login, phone, student number and staff number: indexing the NULLs
-- of the other three made every bulk insert of students and parents pay for four indexes.
DROP INDEX people_login_key;
DROP INDEX people_phone_key;
DROP INDEX people_student_number_key;
DROP INDEX people_staff_number_key;
CREATE UNIQUE INDEX people_login_key ON people (login) WHERE login IS NOT NULL;
CREATE UNIQUE INDEX people_phone_key ON people (phone) WHERE phone IS NOT NULL;
CREATE UNIQUE INDEX people_student_number_key ON people (student_number) WHERE student_number IS NOT NULL;
CREATE UNIQUE INDEX people_staff_number_key ON people (staff_number) WHERE staff_number IS NOT NULL;

-- Only class roles have a class: leave the school-level roles (parents, staff) out of this index.
DROP INDEX role_assignments_class_idx;
CREATE INDEX role_assignments_class_idx ON role_assignments (class_id, role) WHERE class_id IS NOT NULL;
