-- Homework from assignment to marking, and Q&A tutoring. Files attached to them are library
-- attachments: stored once under their hash (blobs) and counted in their owner's quota.

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES people (id),
    unit_id      INTEGER NOT NULL REFERENCES org_units (id),
    blob_sha256  TEXT NOT NULL REFERENCES blobs (sha256),
    file_name    TEXT NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX attachments_owner_idx ON attachments (owner_id);
CREATE INDEX attachments_unit_idx ON attachments (unit_id);

CREATE TABLE homework (
    id                 INTEGER PRIMARY KEY,
    school_id          INTEGER NOT NULL REFERENCES org_units (id),
    school_path        TEXT NOT NULL,
    teacher_id         INTEGER NOT NULL REFERENCES people (id),
    subject            TEXT NOT NULL,
    title              TEXT NOT NULL,
    body               TEXT NOT NULL,
    due_at             INTEGER NOT NULL,
    due_on             DATE NOT NULL,
    estimated_minutes  INTEGER NOT NULL,
    hand_in            TEXT NOT NULL,
    late_allowed       INTEGER NOT NULL DEFAULT 0,
    status             TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    CONSTRAINT homework_hand_in_check CHECK (hand_in IN ('online', 'paper')),
    CONSTRAINT homework_status_check CHECK (status IN ('published', 'withdrawn')),
    CONSTRAINT homework_minutes_check CHECK (estimated_minutes BETWEEN 0 AND 600)
);
CREATE INDEX homework_teacher_idx ON homework (teacher_id, due_at);
CREATE INDEX homework_school_due_idx ON homework (school_path, due_on);

CREATE TABLE homework_classes (
    homework_id  INTEGER NOT NULL REFERENCES homework (id),
    class_id     INTEGER NOT NULL REFERENCES classes (id),
    PRIMARY KEY (homework_id, class_id)
);
CREATE INDEX homework_classes_class_idx ON homework_classes (class_id);

-- Who the homework is for, fixed when it is assigned: a student who changes class keeps it.
CREATE TABLE homework_recipients (
    homework_id  INTEGER NOT NULL REFERENCES homework (id),
    student_id   INTEGER NOT NULL REFERENCES people (id),
    class_id     INTEGER NOT NULL REFERENCES classes (id),
    reminded_at  INTEGER,
    PRIMARY KEY (homework_id, student_id)
);
CREATE INDEX homework_recipients_student_idx ON homework_recipients (student_id);

CREATE TABLE homework_attachments (
    homework_id    INTEGER NOT NULL REFERENCES homework (id),
    attachment_id  INTEGER NOT NULL REFERENCES attachments (id),
    position       INTEGER NOT NULL,
    PRIMARY KEY (homework_id, attachment_id)
);

CREATE TABLE homework_resources (
    homework_id  INTEGER NOT NULL REFERENCES homework (id),
    resource_id  INTEGER NOT NULL REFERENCES resources (id),
    position     INTEGER NOT NULL,
    PRIMARY KEY (homework_id, resource_id)
);

-- One per student and homework: handed in (again after a resubmission request), marked, returned.
-- Paper homework has rows only once marked (handed_in_at empty).
CREATE TABLE submissions (
    id               INTEGER PRIMARY KEY,
    homework_id      INTEGER NOT NULL REFERENCES homework (id),
    student_id       INTEGER NOT NULL REFERENCES people (id),
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    late             INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    idempotency_key  TEXT,
    handed_in_at     INTEGER,
    score            DOUBLE PRECISION,
    grade            TEXT,
    feedback         TEXT NOT NULL DEFAULT '',
    marked_by        INTEGER REFERENCES people (id),
    marked_at        INTEGER,
    returned_at      INTEGER,
    updated_at       INTEGER NOT NULL,
    CONSTRAINT submissions_status_check CHECK (status IN ('handed_in', 'resubmit', 'marked'))
);
CREATE UNIQUE INDEX submissions_homework_student_key ON submissions (homework_id, student_id);
CREATE INDEX submissions_student_idx ON submissions (student_id);

CREATE TABLE submission_attachments (
    submission_id  INTEGER NOT NULL REFERENCES submissions (id),
    attachment_id  INTEGER NOT NULL REFERENCES attachments (id),
    position       INTEGER NOT NULL,
    PRIMARY KEY (submission_id, attachment_id)
);

-- 答疑辅导: a student asks a class's subject teacher; the thread holds the question and answers.
CREATE TABLE questions (
    id           INTEGER PRIMARY KEY,
    school_path  TEXT NOT NULL,
    class_id     INTEGER NOT NULL REFERENCES classes (id),
    subject      TEXT NOT NULL,
    student_id   INTEGER NOT NULL REFERENCES people (id),
    teacher_id   INTEGER NOT NULL REFERENCES people (id),
    title        TEXT NOT NULL,
    status       TEXT NOT NULL,
    shared       INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    answered_at  INTEGER,
    solved_at    INTEGER,
    updated_at   INTEGER NOT NULL,
    CONSTRAINT questions_status_check CHECK (status IN ('open', 'answered', 'solved'))
);
CREATE INDEX questions_teacher_idx ON questions (teacher_id, status);
CREATE INDEX questions_student_idx ON questions (student_id);
CREATE INDEX questions_class_idx ON questions (class_id, shared);

CREATE TABLE question_messages (
    id           INTEGER PRIMARY KEY,
    question_id  INTEGER NOT NULL REFERENCES questions (id),
    person_id    INTEGER NOT NULL REFERENCES people (id),
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX question_messages_question_idx ON question_messages (question_id, id);

CREATE TABLE question_message_attachments (
    message_id     INTEGER NOT NULL REFERENCES question_messages (id),
    attachment_id  INTEGER NOT NULL REFERENCES attachments (id),
    position       INTEGER NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
