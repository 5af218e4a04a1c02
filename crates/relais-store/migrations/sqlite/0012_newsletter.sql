-- Newsletter by email (SQLite): per-workspace SMTP settings, subscriber lists with double
-- opt-in, issues and one delivery row per (issue, subscriber) so nobody gets an issue twice.
CREATE TABLE newsletter_settings (
    workspace_id INTEGER PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    security TEXT NOT NULL,
    username TEXT,
    secret_id INTEGER REFERENCES secrets(id),
    from_address TEXT NOT NULL,
    bounce_limit INTEGER NOT NULL,
    checked_at INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE newsletter_lists (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_id TEXT NOT NULL UNIQUE,
    key_secret_id INTEGER NOT NULL REFERENCES secrets(id),
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    archived_at INTEGER
);
CREATE INDEX newsletter_lists_workspace ON newsletter_lists(workspace_id);

CREATE TABLE newsletter_subscribers (
    id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL REFERENCES newsletter_lists(id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    name TEXT,
    state TEXT NOT NULL,
    consent TEXT NOT NULL,
    confirm_hash TEXT UNIQUE,
    confirm_expires_at INTEGER,
    unsub_nonce TEXT NOT NULL,
    unsub_hash TEXT NOT NULL UNIQUE,
    bounces INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    unsubscribed_at INTEGER,
    updated_at INTEGER NOT NULL,
    UNIQUE (list_id, email)
);
CREATE INDEX newsletter_subscribers_list_state ON newsletter_subscribers(list_id, state, id);

CREATE TABLE newsletter_issues (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    list_id INTEGER NOT NULL REFERENCES newsletter_lists(id) ON DELETE CASCADE,
    post_id INTEGER REFERENCES posts(id) ON DELETE SET NULL,
    subject TEXT NOT NULL,
    html TEXT NOT NULL,
    text TEXT NOT NULL,
    state TEXT NOT NULL,
    last_error TEXT,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX newsletter_issues_workspace ON newsletter_issues(workspace_id, id);

CREATE TABLE newsletter_deliveries (
    id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES newsletter_issues(id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES newsletter_subscribers(id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    message_id TEXT,
    smtp_code TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (issue_id, subscriber_id)
);
CREATE INDEX newsletter_deliveries_state ON newsletter_deliveries(issue_id, state);
CREATE INDEX newsletter_deliveries_workspace_state ON newsletter_deliveries(workspace_id, state, updated_at);
