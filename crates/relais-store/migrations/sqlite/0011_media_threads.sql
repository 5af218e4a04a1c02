-- Media library, media attached to targets, thread parts, and a version on posts for the
-- composer's autosave (SQLite).
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    filename TEXT NOT NULL,
    alt TEXT NOT NULL,
    storage TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (workspace_id, sha256)
);

-- Position 0 is the post itself; 1.. are its thread parts.
CREATE TABLE target_media (
    target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
    PRIMARY KEY (target_id, position, ord)
);
CREATE INDEX target_media_media ON target_media(media_id);

-- The follow-ups of a target: thread parts (position 1..) and the first comment (kind
-- 'comment'), each with its own idempotency key and the remote id saved when it goes out.
CREATE TABLE target_parts (
    id INTEGER PRIMARY KEY,
    target_id INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    remote_id TEXT,
    remote_cid TEXT,
    remote_url TEXT,
    published_at INTEGER,
    UNIQUE (target_id, position)
);

-- The head of a thread is published before its parts: its id waits here until the last part
-- is out and the target becomes published.
ALTER TABLE targets ADD COLUMN head_remote_id TEXT;
ALTER TABLE targets ADD COLUMN head_remote_cid TEXT;
ALTER TABLE targets ADD COLUMN head_remote_url TEXT;
ALTER TABLE posts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN updated_by INTEGER REFERENCES users(id) ON DELETE SET NULL;
-- The composer tab that saved last: its own saves racing each other are not conflicts.
ALTER TABLE posts ADD COLUMN edit_token TEXT;
