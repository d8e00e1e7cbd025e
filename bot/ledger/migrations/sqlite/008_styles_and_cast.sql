-- Style presets and the saved cast of references (issue 20).

-- A workspace's own styles ('discord:<guild id>', 'slack:<team id>'). A row with hidden = 1
-- and no suffix hides the built-in style of that name there.
CREATE TABLE styles (
    workspace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    suffix     TEXT NOT NULL DEFAULT '',
    aspect     TEXT,
    resolution TEXT,
    model      TEXT,
    hidden     INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (workspace, name)
) WITHOUT ROWID;

-- A saved reference image under a name: a user's ('discord:<id>') or a workspace's cast
-- ('workspace:discord:<guild id>'). The blob stays while an entry names it, past the retention.
CREATE TABLE cast_entries (
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL REFERENCES blobs (sha256),
    label      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner, name)
) WITHOUT ROWID;
CREATE INDEX cast_entries_blob ON cast_entries (sha256);
