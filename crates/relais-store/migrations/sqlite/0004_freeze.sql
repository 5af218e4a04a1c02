-- Crisis freeze (SQLite): who froze a workspace's publishing, when, why, and how it ended.
CREATE TABLE freezes (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    frozen_at INTEGER NOT NULL,
    frozen_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    frozen_by_label TEXT NOT NULL,
    reason TEXT NOT NULL,
    unfrozen_at INTEGER,
    unfrozen_by_label TEXT,
    resolution TEXT
);
CREATE INDEX freezes_workspace ON freezes(workspace_id, unfrozen_at);
