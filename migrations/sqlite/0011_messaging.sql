-- Messaging: conversations (class groups, parents' groups, staff groups, direct messages), their
-- messages, reports for moderation, notices with read receipts, and family-education deliveries.

-- `group_key` names a conversation once: class:<id>, parents:<id>, staff:<school id>, or
-- direct:<lower person id>:<higher person id>.
CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL,
    group_key        TEXT NOT NULL,
    school_id        INTEGER REFERENCES org_units (id),
    school_path      TEXT NOT NULL,
    class_id         INTEGER REFERENCES classes (id),
    title            TEXT NOT NULL,
    muted            INTEGER NOT NULL DEFAULT 0,
    last_message_id  INTEGER NOT NULL DEFAULT 0,
    synced_at        INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    CONSTRAINT conversations_kind_check CHECK (kind IN ('class', 'parents', 'staff', 'direct'))
);
CREATE UNIQUE INDEX conversations_group_key_key ON conversations (group_key);
CREATE INDEX conversations_synced_idx ON conversations (synced_at);

CREATE TABLE conversation_members (
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
    person_id        INTEGER NOT NULL REFERENCES people (id),
    is_owner         INTEGER NOT NULL DEFAULT 0,
    muted_until      INTEGER,
    last_read_id     INTEGER NOT NULL DEFAULT 0,
    joined_at        INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, person_id)
);
CREATE INDEX conversation_members_person_idx ON conversation_members (person_id);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations (id),
    sender_id        INTEGER NOT NULL REFERENCES people (id),
    body             TEXT NOT NULL,
    reply_to         INTEGER REFERENCES messages (id),
    created_at       INTEGER NOT NULL,
    recalled_at      INTEGER,
    removed_at       INTEGER,
    removed_by       INTEGER REFERENCES people (id)
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);
CREATE INDEX messages_created_idx ON messages (created_at);

CREATE TABLE message_mentions (
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    person_id   INTEGER NOT NULL REFERENCES people (id),
    PRIMARY KEY (message_id, person_id)
);
CREATE INDEX message_mentions_person_idx ON message_mentions (person_id);

CREATE TABLE message_attachments (
    message_id     INTEGER NOT NULL REFERENCES messages (id),
    attachment_id  INTEGER NOT NULL REFERENCES attachments (id),
    position       INTEGER NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);

CREATE TABLE message_reports (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    reporter_id  INTEGER NOT NULL REFERENCES people (id),
    school_path  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    handled_by   INTEGER REFERENCES people (id),
    handled_at   INTEGER,
    CONSTRAINT message_reports_status_check CHECK (status IN ('open', 'removed', 'dismissed'))
);
CREATE UNIQUE INDEX message_reports_message_reporter_key ON message_reports (message_id, reporter_id);
CREATE INDEX message_reports_school_idx ON message_reports (school_path, status);

-- A notice goes to an audience (the parents, students or teachers of a class or of a part of the
-- org tree). Receipts are written for everyone in it when it is sent, and for people who join the
-- audience later when they first look.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    sender_id       INTEGER NOT NULL REFERENCES people (id),
    issuer_name     TEXT NOT NULL,
    issuer_path     TEXT NOT NULL,
    audience        TEXT NOT NULL,
    scope_path      TEXT NOT NULL,
    scope_class_id  INTEGER REFERENCES classes (id),
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    resource_id     INTEGER REFERENCES resources (id),
    needs_confirm   INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    reminded_at     INTEGER,
    CONSTRAINT notices_kind_check CHECK (kind IN ('notice', 'family')),
    CONSTRAINT notices_audience_check CHECK (audience IN ('parents', 'students', 'teachers'))
);
CREATE INDEX notices_sender_idx ON notices (sender_id, created_at);
CREATE INDEX notices_scope_idx ON notices (scope_path, created_at);

CREATE TABLE notice_receipts (
    notice_id     INTEGER NOT NULL REFERENCES notices (id),
    person_id     INTEGER NOT NULL REFERENCES people (id),
    delivered_at  INTEGER NOT NULL,
    read_at       INTEGER,
    confirmed_at  INTEGER,
    reminded_at   INTEGER,
    PRIMARY KEY (notice_id, person_id)
);
CREATE INDEX notice_receipts_person_idx ON notice_receipts (person_id, notice_id);

-- Family education (家庭教育): a library resource scheduled for the parents of a class or a school;
-- when its time comes it is sent as a notice of kind 'family', whose receipts count deliveries and reads.
CREATE TABLE family_deliveries (
    id              INTEGER PRIMARY KEY,
    created_by      INTEGER NOT NULL REFERENCES people (id),
    issuer_name     TEXT NOT NULL,
    issuer_path     TEXT NOT NULL,
    scope_path      TEXT NOT NULL,
    scope_class_id  INTEGER REFERENCES classes (id),
    resource_id     INTEGER NOT NULL REFERENCES resources (id),
    title           TEXT NOT NULL,
    send_at         INTEGER NOT NULL,
    notice_id       INTEGER REFERENCES notices (id),
    created_at      INTEGER NOT NULL
);
CREATE INDEX family_deliveries_due_idx ON family_deliveries (send_at);
CREATE INDEX family_deliveries_scope_idx ON family_deliveries (scope_path, send_at);
