-- Mentions enrichment, full-text search, alert rules, escalation targets and fired alerts (SQLite).
ALTER TABLE mentions ADD COLUMN origin TEXT NOT NULL DEFAULT 'feed';
-- positive | neutral | negative, and the score in thousandths (-1000..1000).
ALTER TABLE mentions ADD COLUMN sentiment TEXT;
ALTER TABLE mentions ADD COLUMN sentiment_score INTEGER;
-- Near-duplicate group (500 shares of one article = one story).
ALTER TABLE mentions ADD COLUMN story_id BIGINT;
CREATE INDEX mentions_story ON mentions(workspace_id, story_id);

-- Full text: FTS5 over title and body, accents removed; kept in step by triggers.
CREATE VIRTUAL TABLE mentions_fts USING fts5(
    title, body, content='mentions', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO mentions_fts(rowid, title, body) SELECT id, title, body FROM mentions;
CREATE TRIGGER mentions_fts_ai AFTER INSERT ON mentions BEGIN
    INSERT INTO mentions_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER mentions_fts_ad AFTER DELETE ON mentions BEGIN
    INSERT INTO mentions_fts(mentions_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER mentions_fts_au AFTER UPDATE OF title, body ON mentions BEGIN
    INSERT INTO mentions_fts(mentions_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO mentions_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

-- Alert rules per query: each new mention, a digest, a threshold, or crisis detection.
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    query_id INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    threshold INTEGER NOT NULL DEFAULT 0,
    window_minutes INTEGER NOT NULL DEFAULT 60,
    sensitivity INTEGER NOT NULL DEFAULT 3,
    cooldown_minutes INTEGER NOT NULL DEFAULT 60,
    escalate INTEGER NOT NULL DEFAULT 0,
    -- Progress: last mention id (each/digest/threshold) or last closed minute (crisis).
    cursor BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT '{}',
    last_fired_at BIGINT,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX alert_rules_workspace ON alert_rules(workspace_id);

-- Where escalations go besides the members: an email address, a Matrix room, a webhook.
CREATE TABLE escalation_targets (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    address TEXT NOT NULL,
    secret_id INTEGER REFERENCES secrets(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX escalation_targets_workspace ON escalation_targets(workspace_id);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    rule_id INTEGER REFERENCES alert_rules(id) ON DELETE SET NULL,
    query_id INTEGER,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    brief TEXT NOT NULL,
    -- When the condition became true (for delivery latency) and when it was raised.
    detected_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Dedup key: one alert per rule and trigger (minute, digest period, mention).
    dedup TEXT NOT NULL,
    UNIQUE (workspace_id, dedup)
);
CREATE INDEX alerts_workspace_time ON alerts(workspace_id, created_at);

CREATE TABLE alert_deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    delivered_at BIGINT
);
CREATE INDEX alert_deliveries_alert ON alert_deliveries(alert_id);
