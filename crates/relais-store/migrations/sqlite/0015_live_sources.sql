-- Live listening sources (Bluesky firehose/Jetstream, Mastodon streaming, page watch): one
-- shared connection per source across workspaces, held by one process at a time (lease), with
-- the cursor saved after each stored batch; workspaces subscribe to them.
CREATE TABLE live_sources (
    id INTEGER PRIMARY KEY,
    source_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL,
    cursor TEXT,
    status TEXT,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE live_subscriptions (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    live_source_id INTEGER NOT NULL REFERENCES live_sources(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, live_source_id)
);
