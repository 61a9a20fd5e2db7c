-- Timetables: each school's bell schedule per term (with variants such as summer and winter
-- times), each class's week as a draft and as published, the publications with what changed,
-- and the private calendar feeds. Minutes of the day are local time (the region's offset).

CREATE TABLE bell_schedules (
    id               INTEGER PRIMARY KEY,
    school_id        INTEGER NOT NULL REFERENCES org_units (id),
    term_id          INTEGER NOT NULL REFERENCES terms (id),
    days_per_week    INTEGER NOT NULL,
    periods_per_day  INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    updated_by       INTEGER NOT NULL REFERENCES people (id),
    CONSTRAINT bell_schedules_days_check CHECK (days_per_week BETWEEN 5 AND 7),
    CONSTRAINT bell_schedules_periods_check CHECK (periods_per_day BETWEEN 1 AND 16)
);
CREATE UNIQUE INDEX bell_schedules_school_term_key ON bell_schedules (school_id, term_id);

CREATE TABLE bell_variants (
    id           INTEGER PRIMARY KEY,
    schedule_id  INTEGER NOT NULL REFERENCES bell_schedules (id),
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    starts_on    DATE NOT NULL,
    ends_on      DATE NOT NULL,
    CONSTRAINT bell_variants_dates_check CHECK (starts_on <= ends_on)
);
CREATE UNIQUE INDEX bell_variants_schedule_position_key ON bell_variants (schedule_id, position);

CREATE TABLE bell_periods (
    variant_id     INTEGER NOT NULL REFERENCES bell_variants (id),
    period         INTEGER NOT NULL,
    starts_minute  INTEGER NOT NULL,
    ends_minute    INTEGER NOT NULL,
    PRIMARY KEY (variant_id, period),
    CONSTRAINT bell_periods_times_check CHECK (starts_minute >= 0 AND starts_minute < ends_minute AND ends_minute <= 1440)
);

CREATE TABLE timetables (
    id                 INTEGER PRIMARY KEY,
    class_id           INTEGER NOT NULL REFERENCES classes (id),
    term_id            INTEGER NOT NULL REFERENCES terms (id),
    school_id          INTEGER NOT NULL REFERENCES org_units (id),
    published_version  INTEGER NOT NULL DEFAULT 0,
    published_at       INTEGER,
    updated_at         INTEGER NOT NULL,
    updated_by         INTEGER NOT NULL REFERENCES people (id)
);
CREATE UNIQUE INDEX timetables_class_term_key ON timetables (class_id, term_id);
CREATE INDEX timetables_school_term_idx ON timetables (school_id, term_id);

-- A class's lessons: the draft being edited and the published week everyone sees.
CREATE TABLE timetable_lessons (
    timetable_id  INTEGER NOT NULL REFERENCES timetables (id),
    state         TEXT NOT NULL,
    weekday       INTEGER NOT NULL,
    period        INTEGER NOT NULL,
    subject       TEXT NOT NULL,
    teacher_id    INTEGER REFERENCES people (id),
    room          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (timetable_id, state, weekday, period),
    CONSTRAINT timetable_lessons_state_check CHECK (state IN ('draft', 'published')),
    CONSTRAINT timetable_lessons_weekday_check CHECK (weekday BETWEEN 1 AND 7),
    CONSTRAINT timetable_lessons_period_check CHECK (period BETWEEN 1 AND 16)
);
CREATE INDEX timetable_lessons_teacher_idx ON timetable_lessons (teacher_id, state);

-- Every publication (课表发布), with the lessons it changed against the one before.
CREATE TABLE timetable_publications (
    id            INTEGER PRIMARY KEY,
    timetable_id  INTEGER NOT NULL REFERENCES timetables (id),
    version       INTEGER NOT NULL,
    published_at  INTEGER NOT NULL,
    published_by  INTEGER NOT NULL REFERENCES people (id),
    changes       TEXT NOT NULL
);
CREATE UNIQUE INDEX timetable_publications_version_key ON timetable_publications (timetable_id, version);

-- A person's private iCalendar feed: only the token's SHA-256 is kept.
CREATE TABLE calendar_feeds (
    person_id   INTEGER PRIMARY KEY REFERENCES people (id),
    token_hash  TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX calendar_feeds_token_hash_key ON calendar_feeds (token_hash);
