-- Secret iCalendar feed of a workspace's planned publications (the token is stored hashed).
CREATE TABLE ical_feeds (
    workspace_id BIGINT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
