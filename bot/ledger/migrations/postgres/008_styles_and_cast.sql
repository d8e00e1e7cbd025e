-- PostgreSQL twin of sqlite/008_styles_and_cast.sql: style presets and the saved cast.

CREATE TABLE styles (
    workspace  text NOT NULL,
    name       text NOT NULL,
    suffix     text NOT NULL DEFAULT '',
    aspect     text,
    resolution text,
    model      text,
    hidden     boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (workspace, name)
);

CREATE TABLE cast_entries (
    owner      text NOT NULL,
    name       text NOT NULL,
    sha256     text NOT NULL REFERENCES blobs (sha256),
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner, name)
);
CREATE INDEX cast_entries_blob ON cast_entries (sha256);
