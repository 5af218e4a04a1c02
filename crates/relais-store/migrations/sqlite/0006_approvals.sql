-- Approvals: per-workspace mode, the review stage of a post, and every decision.
ALTER TABLE workspaces ADD COLUMN approval_mode TEXT NOT NULL DEFAULT 'none';
ALTER TABLE posts ADD COLUMN review_stage TEXT;
ALTER TABLE posts ADD COLUMN wanted_at INTEGER;

CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT NOT NULL,
    decided_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    decided_by_label TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX approvals_post ON approvals(post_id);
