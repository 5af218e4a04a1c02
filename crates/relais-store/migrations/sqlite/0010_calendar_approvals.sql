-- Calendar and approvals: approvers by name, expiry of pending approvals, client review links.
ALTER TABLE workspaces ADD COLUMN approvers_replace_role INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN approval_expiry_days INTEGER;
ALTER TABLE posts ADD COLUMN review_since INTEGER;
UPDATE posts SET review_since = updated_at WHERE review_stage IS NOT NULL;
CREATE INDEX posts_review ON posts(review_stage, workspace_id);

-- Members allowed to decide at the internal stage, in addition to (or instead of) the roles.
CREATE TABLE workspace_approvers (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (workspace_id, user_id)
);

-- A client's review of one post without an account: the token is stored hashed, expires, can
-- be revoked, and serves one decision.
CREATE TABLE review_links (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    used_at INTEGER,
    used_by TEXT
);
CREATE INDEX review_links_post ON review_links(post_id);
