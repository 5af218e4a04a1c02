-- OAuth connections: the pending authorization of one user in one workspace (state hashed,
-- everything else sealed in `secrets`, single use, short-lived), and the app relais registered on
-- each Mastodon instance (client id/secret sealed), reused by every workspace.
CREATE TABLE oauth_states (
    id INTEGER PRIMARY KEY,
    state_hash TEXT NOT NULL UNIQUE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    network TEXT NOT NULL,
    secret_id INTEGER REFERENCES secrets(id),
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states(expires_at);

CREATE TABLE mastodon_apps (
    id INTEGER PRIMARY KEY,
    instance TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    secret_id INTEGER NOT NULL REFERENCES secrets(id),
    created_at BIGINT NOT NULL,
    UNIQUE (instance, redirect_uri)
);
