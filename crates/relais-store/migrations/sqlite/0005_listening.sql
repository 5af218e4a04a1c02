-- Listening (SQLite): shared feed ingest, per-workspace sources and queries, mentions.
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    next_poll_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX feeds_due ON feeds(next_poll_at);


CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, feed_id)
);

CREATE TABLE queries (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    expression TEXT NOT NULL,
    tag TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX queries_workspace ON queries(workspace_id);

CREATE TABLE mentions (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    source_id INTEGER REFERENCES sources(id) ON DELETE SET NULL,
    guid TEXT NOT NULL,
    query_ids TEXT NOT NULL,
    url TEXT,
    author TEXT,
    title TEXT,
    body TEXT NOT NULL,
    lang TEXT,
    published_at INTEGER,
    received_at INTEGER NOT NULL,
    irrelevant INTEGER NOT NULL DEFAULT 0,
    UNIQUE (workspace_id, guid)
);
CREATE INDEX mentions_workspace_time ON mentions(workspace_id, received_at);

CREATE TABLE mention_queries (
    mention_id INTEGER NOT NULL REFERENCES mentions(id) ON DELETE CASCADE,
    query_id INTEGER NOT NULL,
    PRIMARY KEY (mention_id, query_id)
);
CREATE INDEX mention_queries_query ON mention_queries(query_id);
