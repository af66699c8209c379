-- collectors 1: the collectors' own state (collectors.state): log cursors and recorded restore tests.
CREATE TABLE IF NOT EXISTS collector_cursors (host TEXT NOT NULL, path TEXT NOT NULL, inode INTEGER NOT NULL,
 offset INTEGER NOT NULL, head TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (host, path));
CREATE TABLE IF NOT EXISTS backup_restore_tests (id INTEGER PRIMARY KEY AUTOINCREMENT, system TEXT NOT NULL,
 tested_at TEXT NOT NULL, by TEXT, result TEXT NOT NULL, note TEXT, recorded TEXT NOT NULL);
