-- Publishing (SQLite): channels, posts and their per-channel targets.
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    secret_id INTEGER REFERENCES secrets(id),
    status TEXT NOT NULL,
    status_detail TEXT,
    rate_limited_until INTEGER,
    limits TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    archived_at INTEGER
);
CREATE INDEX channels_workspace ON channels(workspace_id);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX posts_workspace ON posts(workspace_id);

CREATE TABLE targets (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    options TEXT NOT NULL,
    state TEXT NOT NULL,
    scheduled_at INTEGER,
    version INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT NOT NULL UNIQUE,
    remote_id TEXT,
    remote_url TEXT,
    published_at INTEGER,
    last_error_code TEXT,
    last_error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX targets_post ON targets(post_id);
CREATE INDEX targets_workspace_state ON targets(workspace_id, state, scheduled_at);
