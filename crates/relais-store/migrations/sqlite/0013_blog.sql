-- Owned media first: the brand's blog feed becomes posts (draft or queued) from a template,
-- each article once, optionally repeated every N days (evergreen).
CREATE TABLE blog_feeds (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    name TEXT NOT NULL,
    channels TEXT NOT NULL,
    template TEXT NOT NULL,
    action TEXT NOT NULL,
    evergreen_days INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    state TEXT NOT NULL,
    seeded INTEGER NOT NULL DEFAULT 0,
    next_poll_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, url)
);
CREATE INDEX blog_feeds_due ON blog_feeds(next_poll_at);

CREATE TABLE blog_items (
    id INTEGER PRIMARY KEY,
    blog_feed_id INTEGER NOT NULL REFERENCES blog_feeds(id) ON DELETE CASCADE,
    guid TEXT NOT NULL,
    title TEXT,
    url TEXT,
    post_id INTEGER,
    evergreen_next_at BIGINT,
    evergreen_count INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (blog_feed_id, guid)
);
CREATE INDEX blog_items_evergreen ON blog_items(evergreen_next_at);
