//! Opening the state directory: permissions, the SQLite connection, integrity
//! checks and schema migrations.
//!
//! The database is the only record of what ferry created in the destination
//! account, so this module is deliberately conservative: it never deletes or
//! rewrites a database it does not understand, and it validates an existing file
//! with read-only statements before the first write touches it.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::SecondsFormat;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::StateError;

/// File name of the database inside the state directory.
pub const DB_FILE: &str = "state.db";

/// Schema version this binary writes. A database with a newer version was written
/// by a newer ferry and is refused rather than misread.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// `MIGRATIONS[n]` brings the schema from version `n` to `n + 1`. Append only:
/// released databases carry the version number they were migrated to.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    state         TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    config_digest TEXT NOT NULL,
    plan          TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT 'null'
);
CREATE TABLE snapshots (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    side     TEXT NOT NULL,
    taken_at TEXT NOT NULL,
    data     TEXT NOT NULL
);
CREATE INDEX snapshots_by_side ON snapshots (side, id);
CREATE TABLE mapping (
    source_key TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    dest_id    TEXT NOT NULL,
    origin     TEXT NOT NULL,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    updated_at TEXT NOT NULL
);
CREATE TABLE journal (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    ts         TEXT NOT NULL,
    node       TEXT NOT NULL,
    op         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    source_key TEXT NOT NULL,
    status     TEXT NOT NULL,
    dest_id    TEXT,
    detail     TEXT NOT NULL,
    error      TEXT
);
CREATE INDEX journal_by_run ON journal (run_id, seq);
"#,
    r#"
CREATE TABLE temporaries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs (id),
    side       TEXT NOT NULL,
    what       TEXT NOT NULL,
    opened_at  TEXT NOT NULL,
    closed_at  TEXT
);
CREATE INDEX temporaries_open ON temporaries (closed_at, run_id);
"#,
];

/// Tables and columns the current schema must have. Checked on every open so a
/// database that was edited by hand or by another program is refused up front
/// instead of failing halfway through an apply.
const EXPECTED_COLUMNS: &[(&str, &[&str])] = &[
    ("meta", &["key", "value"]),
    (
        "runs",
        &[
            "id",
            "state",
            "started_at",
            "ended_at",
            "config_digest",
            "plan",
            "summary",
        ],
    ),
    ("snapshots", &["id", "side", "taken_at", "data"]),
    (
        "temporaries",
        &["id", "run_id", "side", "what", "opened_at", "closed_at"],
    ),
    (
        "mapping",
        &[
            "source_key",
            "kind",
            "dest_id",
            "origin",
            "run_id",
            "updated_at",
        ],
    ),
    (
        "journal",
        &[
            "seq",
            "run_id",
            "ts",
            "node",
            "op",
            "kind",
            "source_key",
            "status",
            "dest_id",
            "detail",
            "error",
        ],
    ),
];

/// The state directory and its open database.
///
/// The connection sits behind a mutex so one `State` can be shared by the async
/// executor's tasks (`State: Send + Sync`, every method takes `&self`). Each
/// method is one short transaction, committed before it returns.
pub struct State {
    dir: PathBuf,
    db_path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").field("dir", &self.dir).finish()
    }
}

impl State {
    /// Opens the state directory, creating it and an empty database if missing.
    ///
    /// The directory is made `0700` and the database `0600` explicitly (whatever the
    /// umask, and tightening a directory that already exists), because the mapping
    /// and snapshots describe the user's infrastructure. The database runs in WAL
    /// mode with `synchronous=NORMAL`: a committed write survives the process being
    /// killed, which is what resuming a killed apply relies on.
    ///
    /// An existing database is checked (`PRAGMA quick_check` and the schema) before
    /// anything is written to it; a file that fails is refused with
    /// [`StateError::Corrupt`] and left exactly as it was.
    pub fn open(dir: &Path) -> Result<State, StateError> {
        create_private_dir(dir)?;
        let db_path = dir.join(DB_FILE);
        create_private_file(&db_path)?;
        Self::open_db(dir, db_path)
    }

    /// Like [`State::open`], but never creates anything: read-only commands
    /// (`runs`, `verify`, `rollback`) pointed at the wrong directory must say so
    /// rather than leave an empty `.ferry` behind.
    pub fn open_existing(dir: &Path) -> Result<State, StateError> {
        if !dir.is_dir() {
            return Err(StateError::Missing {
                path: dir.to_path_buf(),
            });
        }
        let db_path = dir.join(DB_FILE);
        match fs::metadata(&db_path) {
            // A zero-byte file holds no state: SQLite only leaves one behind when a
            // process died between creating the file and writing the schema.
            Ok(meta) if meta.is_file() && meta.len() > 0 => {}
            Ok(_) => return Err(StateError::Missing { path: db_path }),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(StateError::Missing { path: db_path })
            }
            Err(e) => return Err(StateError::io("read the metadata of", db_path, e)),
        }
        set_mode(dir, 0o700)?;
        set_mode(&db_path, 0o600)?;
        Self::open_db(dir, db_path)
    }

    /// The state directory this `State` was opened on.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn open_db(dir: &Path, db_path: PathBuf) -> Result<State, StateError> {
        check_header(&db_path)?;
        // No SQLITE_OPEN_CREATE: the file was created above with the right mode.
        // NO_MUTEX: the connection is already serialised by our own Mutex.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&db_path, flags)
            .map_err(sql_err(&db_path, "open the database"))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(sql_err(&db_path, "set the busy timeout"))?;

        // Read-only checks first: a corrupt file must not be written to.
        quick_check(&conn, &db_path)?;
        let version = schema_version(&conn, &db_path)?;
        if version == SCHEMA_VERSION {
            check_columns(&conn, &db_path)?;
        }

        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(sql_err(&db_path, "switch the database to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StateError::Corrupt {
                path: db_path,
                detail: format!("SQLite refused WAL mode and stayed in {mode} mode"),
            });
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(sql_err(&db_path, "set the connection pragmas"))?;

        let mut conn = conn;
        if version < SCHEMA_VERSION {
            migrate(&mut conn, &db_path)?;
            check_columns(&conn, &db_path)?;
        }

        // SQLite creates the -wal and -shm files with the database's mode, but say
        // it explicitly rather than depend on that.
        for suffix in ["-wal", "-shm"] {
            let side_file = PathBuf::from(format!("{}{suffix}", db_path.display()));
            if side_file.exists() {
                set_mode(&side_file, 0o600)?;
            }
        }

        Ok(State {
            dir: dir.to_path_buf(),
            db_path,
            conn: Mutex::new(conn),
        })
    }

    /// The connection. A panic in another thread while it held the mutex cannot
    /// leave the database half-written (every write is one SQLite transaction), so
    /// a poisoned mutex is simply taken over.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Maps a rusqlite error from `action` to a [`StateError`] naming the database.
    pub(crate) fn sql(
        &self,
        action: &'static str,
    ) -> impl FnOnce(rusqlite::Error) -> StateError + '_ {
        sql_err(&self.db_path, action)
    }

    /// Begins a write transaction that takes the write lock up front, so it waits
    /// on the busy timeout instead of failing when upgrading from a read.
    pub(crate) fn write_tx<'c>(
        &self,
        conn: &'c mut Connection,
    ) -> Result<rusqlite::Transaction<'c>, StateError> {
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql("begin a write transaction"))
    }

    /// Parses a JSON column. Ferry only ever writes valid JSON there, so a failure
    /// means the file was altered behind ferry's back.
    pub(crate) fn parse_json(
        &self,
        text: &str,
        what: impl FnOnce() -> String,
    ) -> Result<serde_json::Value, StateError> {
        serde_json::from_str(text).map_err(|e| StateError::Corrupt {
            path: self.db_path.clone(),
            detail: format!("{} is not valid JSON: {e}", what()),
        })
    }

    /// A corrupt-database error for a value ferry would never have written.
    pub(crate) fn corrupt(&self, detail: String) -> StateError {
        StateError::Corrupt {
            path: self.db_path.clone(),
            detail,
        }
    }
}

/// The current time as RFC 3339 UTC with whole seconds, the format of every
/// timestamp in the state database.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Maps a rusqlite error to [`StateError`]; SQLite's own corruption codes become
/// [`StateError::Corrupt`] so the user gets the "restore or move aside" advice.
fn sql_err<'a>(
    path: &'a Path,
    action: &'static str,
) -> impl FnOnce(rusqlite::Error) -> StateError + 'a {
    move |source| {
        if let rusqlite::Error::SqliteFailure(e, _) = &source {
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ) {
                return StateError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("SQLite said \"{source}\" while trying to {action}"),
                };
            }
        }
        StateError::Sqlite {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), StateError> {
    let current = fs::metadata(path)
        .map_err(|e| StateError::io("read the permissions of", path, e))?
        .permissions()
        .mode();
    if current & 0o7777 != mode {
        fs::set_permissions(path, Permissions::from_mode(mode))
            .map_err(|e| StateError::io("set the permissions of", path, e))?;
    }
    Ok(())
}

/// Creates `dir` with mode 0700 (its parents with the usual mode) and tightens it
/// to 0700 if it already existed.
fn create_private_dir(dir: &Path) -> Result<(), StateError> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| StateError::io("create the parent directory of", dir, e))?;
    }
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(StateError::io("create the state directory", dir, e)),
    }
    set_mode(dir, 0o700)
}

/// Creates an empty `path` with mode 0600 unless it exists, then makes it 0600.
/// An empty file is a valid empty SQLite database.
fn create_private_file(path: &Path) -> Result<(), StateError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(StateError::io("create the state database", path, e)),
    }
    set_mode(path, 0o600)
}

/// Refuses a non-empty file that does not start with SQLite's magic string. SQLite
/// would refuse it too, but this gives a clearer message.
fn check_header(path: &Path) -> Result<(), StateError> {
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut file = fs::File::open(path).map_err(|e| StateError::io("read", path, e))?;
    let mut head = Vec::with_capacity(MAGIC.len());
    (&mut file)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(|e| StateError::io("read", path, e))?;
    if !head.is_empty() && head.as_slice() != MAGIC {
        return Err(StateError::Corrupt {
            path: path.to_path_buf(),
            detail: "the file is not a SQLite database (wrong header)".to_string(),
        });
    }
    Ok(())
}

fn quick_check(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let problems: Vec<String> = (|| {
        let mut stmt = conn.prepare("PRAGMA quick_check")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()
    })()
    .map_err(sql_err(path, "check the integrity of the database"))?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    let mut detail = format!("PRAGMA quick_check found {} problem(s): ", problems.len());
    detail.push_str(
        &problems
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("; "),
    );
    Err(StateError::Corrupt {
        path: path.to_path_buf(),
        detail,
    })
}

/// Reads `meta.schema_version` without writing: 0 for an empty database, an error
/// for a database that is not ferry's or was written by a newer ferry.
fn schema_version(conn: &Connection, path: &Path) -> Result<i64, StateError> {
    let corrupt = |detail: String| StateError::Corrupt {
        path: path.to_path_buf(),
        detail,
    };
    let tables: Vec<String> = (|| {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()
    })()
    .map_err(sql_err(path, "read the schema"))?;
    if tables.is_empty() {
        return Ok(0);
    }
    if !tables.iter().any(|t| t == "meta") {
        return Err(corrupt(format!(
            "it is a SQLite database but not a ferry state database (no meta table; tables: {})",
            tables.join(", ")
        )));
    }
    let raw: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(sql_err(path, "read the schema version"))?;
    let raw = raw.ok_or_else(|| corrupt("the meta table has no schema_version".to_string()))?;
    let version: i64 = raw
        .parse()
        .map_err(|_| corrupt(format!("schema_version {raw:?} is not a number")))?;
    if version > SCHEMA_VERSION {
        return Err(corrupt(format!(
            "schema_version {version} was written by a newer ferry (this one knows up to \
             {SCHEMA_VERSION}); use that newer ferry with this state directory"
        )));
    }
    if version < 1 {
        return Err(corrupt(format!("schema_version {version} is not valid")));
    }
    Ok(version)
}

fn check_columns(conn: &Connection, path: &Path) -> Result<(), StateError> {
    for (table, expected) in EXPECTED_COLUMNS {
        let columns: Vec<String> = (|| {
            let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
            let rows = stmt.query_map([table], |row| row.get::<_, String>(0))?;
            rows.collect::<Result<Vec<_>, _>>()
        })()
        .map_err(sql_err(path, "read the schema"))?;
        if columns.is_empty() {
            return Err(StateError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("table {table} is missing"),
            });
        }
        if let Some(missing) = expected
            .iter()
            .find(|c| !columns.iter().any(|have| have == *c))
        {
            return Err(StateError::Corrupt {
                path: path.to_path_buf(),
                detail: format!("table {table} has no column {missing}"),
            });
        }
    }
    Ok(())
}

/// Applies the pending migrations in one transaction. The version is re-read
/// inside the transaction so two ferry processes opening a fresh directory at the
/// same moment do not both run them.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err(path, "begin the schema migration"))?;
    let version = schema_version(&tx, path)?;
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)
            .map_err(sql_err(path, "migrate the schema"))?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(from as i64 + 1).to_string()],
        )
        .map_err(sql_err(path, "record the schema version"))?;
    }
    tx.commit()
        .map_err(sql_err(path, "commit the schema migration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn open_creates_private_dir_and_db() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join(".ferry");
        let state = State::open(&dir).unwrap();
        assert_eq!(state.dir(), dir.as_path());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
        for suffix in ["-wal", "-shm"] {
            let p = dir.join(format!("{DB_FILE}{suffix}"));
            if p.exists() {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
    }

    #[test]
    fn open_tightens_loose_existing_dir_and_db() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".ferry");
        drop(State::open(&dir).unwrap());
        fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        fs::set_permissions(dir.join(DB_FILE), Permissions::from_mode(0o666)).unwrap();
        drop(State::open(&dir).unwrap());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);

        // open_existing tightens too.
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(dir.join(DB_FILE), Permissions::from_mode(0o644)).unwrap();
        drop(State::open_existing(&dir).unwrap());
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(DB_FILE)), 0o600);
    }

    #[test]
    fn permissions_do_not_depend_on_umask() {
        let tmp = tempfile::tempdir().unwrap();
        // A pre-existing world-writable directory, created under umask 0.
        let loose = tmp.path().join("loose");
        let fresh = tmp.path().join("fresh");
        // SAFETY: umask only swaps the process file-creation mask; it is restored
        // below. Other tests running meanwhile only get looser defaults, which the
        // code under test must (and does) override anyway.
        let old = unsafe { libc::umask(0) };
        let result = (|| {
            fs::create_dir(&loose)?;
            fs::set_permissions(&loose, Permissions::from_mode(0o777))?;
            let a = State::open(&loose).map_err(std::io::Error::other)?;
            let b = State::open(&fresh).map_err(std::io::Error::other)?;
            drop((a, b));
            Ok::<_, std::io::Error>(())
        })();
        unsafe { libc::umask(old) };
        result.unwrap();
        for dir in [&loose, &fresh] {
            assert_eq!(mode(dir), 0o700, "{}", dir.display());
            assert_eq!(mode(&dir.join(DB_FILE)), 0o600, "{}", dir.display());
        }
    }

    #[test]
    fn open_existing_on_missing_dir_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".ferry");
        let err = State::open_existing(&dir).unwrap_err();
        assert!(
            matches!(&err, StateError::Missing { path } if path == &dir),
            "{err}"
        );
        assert!(err.to_string().contains(&dir.display().to_string()));
        assert!(!dir.exists());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn open_existing_on_dir_without_db_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let err = State::open_existing(tmp.path()).unwrap_err();
        assert!(
            matches!(&err, StateError::Missing { path } if path == &tmp.path().join(DB_FILE)),
            "{err}"
        );
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn reopen_keeps_data_and_schema_version() {
        let tmp = tempfile::tempdir().unwrap();
        let id = {
            let state = State::open(tmp.path()).unwrap();
            state
                .create_run(&serde_json::json!({"n": 1}), "d", crate::RunState::Planned)
                .unwrap()
        };
        let state = State::open_existing(tmp.path()).unwrap();
        assert!(state.run(id).unwrap().is_some());
        let v: String = state
            .conn()
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION.to_string());
        let mode: String = state
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    fn assert_refused_untouched(dir: &Path, expect_in_detail: &str) {
        let db = dir.join(DB_FILE);
        let before = fs::read(&db).unwrap();
        for result in [State::open(dir), State::open_existing(dir)] {
            let err = result.unwrap_err();
            match &err {
                StateError::Corrupt { path, detail } => {
                    assert_eq!(path, &db);
                    assert!(
                        detail.contains(expect_in_detail),
                        "detail {detail:?} lacks {expect_in_detail:?}"
                    );
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
            let msg = err.to_string();
            assert!(msg.contains(&db.display().to_string()), "{msg}");
            assert!(msg.contains("ferry will not reset it"), "{msg}");
            assert!(msg.contains("move it aside"), "{msg}");
            assert_eq!(fs::read(&db).unwrap(), before, "database file was modified");
        }
    }

    #[test]
    fn garbage_file_is_refused_and_left_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let garbage: Vec<u8> = (0..5000u32).map(|i| (i * 7 + 3) as u8).collect();
        fs::write(tmp.path().join(DB_FILE), &garbage).unwrap();
        assert_refused_untouched(tmp.path(), "not a SQLite database");
    }

    #[test]
    fn truncated_database_is_refused_and_left_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let state = State::open(tmp.path()).unwrap();
            let run = state
                .create_run(&serde_json::json!({}), "d", crate::RunState::Running)
                .unwrap();
            let big = serde_json::json!({ "blob": "x".repeat(3000) });
            for i in 0..100 {
                let key = format!("vpc/vpc-{i:04}");
                state
                    .map_put(&key, "vpc", "vpc-dest", "created", run)
                    .unwrap();
                state
                    .journal_intent(run, "n", "create", "vpc", &key, &big)
                    .unwrap();
            }
        }
        // Dropping the last connection checkpoints the WAL into the main file.
        assert!(!tmp.path().join(format!("{DB_FILE}-wal")).exists());
        let db = tmp.path().join(DB_FILE);
        let bytes = fs::read(&db).unwrap();
        assert!(bytes.len() > 100_000, "test database too small");
        fs::write(&db, &bytes[..bytes.len() / 2 + 123]).unwrap();
        assert_refused_untouched(tmp.path(), "malformed");
    }

    #[test]
    fn foreign_sqlite_database_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join(DB_FILE);
        Connection::open(&db)
            .unwrap()
            .execute_batch("CREATE TABLE other (x INTEGER);")
            .unwrap();
        assert_refused_untouched(tmp.path(), "not a ferry state database");
    }

    #[test]
    fn newer_schema_version_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        drop(State::open(tmp.path()).unwrap());
        Connection::open(tmp.path().join(DB_FILE))
            .unwrap()
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [(SCHEMA_VERSION + 1).to_string()],
            )
            .unwrap();
        assert_refused_untouched(tmp.path(), "newer ferry");
    }

    #[test]
    fn missing_table_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        drop(State::open(tmp.path()).unwrap());
        Connection::open(tmp.path().join(DB_FILE))
            .unwrap()
            .execute_batch("DROP TABLE snapshots;")
            .unwrap();
        assert_refused_untouched(tmp.path(), "table snapshots is missing");
    }

    #[test]
    fn state_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<State>();
    }
}
