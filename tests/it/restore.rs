//! A restored backup is checked before anything is put in place (issue 14, item 11): a
//! database carrying a trigger, a view, an unknown table or column, or an unsound account is
//! refused with what was wrong, and nothing is restored; a genuine backup still restores.

use std::path::{Path, PathBuf};
use std::process::Command;

use hoclieu::package::backup::{self, BackupError};

/// A box's data folder with a manager and a few recorded visits, stopped.
fn box_data(tmp: &Path) -> PathBuf {
    let mut app = crate::admin::app();
    drop(app.flush());
    let data = tmp.join("data");
    crate::util::copy_tree(&app.data, &data);
    data
}

/// A backup of `data` after `tamper` has changed its database.
fn backup_of(data: &Path, out: &Path, tamper: &str) -> PathBuf {
    let conn = rusqlite::Connection::open(data.join("hoclieu.sqlite3")).unwrap();
    conn.execute_batch(tamper).unwrap();
    drop(conn);
    let file = out.join("b.hoclieu-backup.tar");
    let f = std::fs::File::create(&file).unwrap();
    backup::backup(data, None, f, "2026-05-01T08:00:00Z", "TTHTCĐ").unwrap();
    file
}

/// Restores `tamper`ed backup into a fresh folder: the problems it was refused for.
fn refused(tamper: &str) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let data = box_data(tmp.path());
    let file = backup_of(&data, tmp.path(), tamper);
    let into = tmp.path().join("restored");
    match backup::restore(&file, &into) {
        Err(BackupError::UnsoundDatabase(problems)) => {
            let left: Vec<_> = std::fs::read_dir(&into).unwrap().collect();
            assert!(
                left.is_empty(),
                "a refused restore leaves nothing: {left:?}"
            );
            problems
        }
        other => panic!("{tamper}: restored or failed otherwise: {other:?}"),
    }
}

#[track_caller]
fn assert_names(problems: &[String], what: &str) {
    assert!(
        problems.iter().any(|p| p.contains(what)),
        "{what} not named in {problems:?}"
    );
}

#[test]
fn a_database_with_a_trigger_is_refused() {
    let p = refused(
        "CREATE TRIGGER forget AFTER INSERT ON events BEGIN DELETE FROM events; \
         DELETE FROM active; END;",
    );
    assert_names(&p, "trigger named \"forget\"");
}

#[test]
fn a_database_with_a_view_is_refused() {
    let p = refused("CREATE VIEW everyone AS SELECT * FROM profiles;");
    assert_names(&p, "view named \"everyone\"");
}

#[test]
fn a_database_with_an_extra_table_or_column_or_index_is_refused() {
    assert_names(
        &refused("CREATE TABLE loot(x TEXT);"),
        "unknown table \"loot\"",
    );
    assert_names(
        &refused("ALTER TABLE events ADD COLUMN note TEXT;"),
        "\"note\"",
    );
    assert_names(
        &refused("CREATE INDEX spy ON profiles(village);"),
        "index \"spy\"",
    );
    // Same columns, a table that refuses every row: nothing would be counted.
    assert_names(
        &refused(
            "DROP TABLE hour_day; CREATE TABLE hour_day(day INTEGER NOT NULL, \
             hour INTEGER NOT NULL, views INTEGER NOT NULL CHECK (0), \
             PRIMARY KEY(day, hour)) WITHOUT ROWID;",
        ),
        "CHECK",
    );
}

#[test]
fn a_database_with_a_bad_account_is_refused() {
    assert_names(
        &refused("UPDATE accounts SET role = 'admin';"),
        "neither manager nor teacher",
    );
    assert_names(
        &refused("UPDATE accounts SET hash = 'mat-khau-du-dai';"),
        "password hash refused",
    );
    assert_names(
        &refused(
            "INSERT INTO accounts VALUES ('ke gian', 'manager', \
             '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0pFd7rSvq5t8lWq6nZKvM5m5v8rC0v5d5oQe3yE1F4Y', 0);",
        ),
        "not a usable user name",
    );
    assert_names(
        &refused(
            "INSERT INTO accounts VALUES ('ke-gian', 'manager', \
             '$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0pFd7rSvq5t8lWq6nZKvM5m5v8rC0v5d5oQe3yE1F4Y', 0);",
        ),
        "\"ke-gian\": password hash refused",
    );
}

#[test]
fn the_restore_command_refuses_a_trigger_with_its_name_and_a_genuine_backup_restores() {
    let tmp = tempfile::tempdir().unwrap();
    let data = box_data(tmp.path());
    let genuine = tmp.path().join("genuine");
    std::fs::create_dir(&genuine).unwrap();
    let good = backup_of(&data, &genuine, "");
    let hostile = backup_of(
        &data,
        tmp.path(),
        "CREATE TRIGGER forget AFTER INSERT ON events BEGIN DELETE FROM events; END;",
    );
    let restore = |file: &Path, into: &Path| {
        Command::new(env!("CARGO_BIN_EXE_hoclieu"))
            .args(["restore", file.to_str().unwrap(), "--data"])
            .arg(into)
            .env_remove("HOCLIEU_DATA")
            .env_remove("HOCLIEU_CONFIG")
            .output()
            .unwrap()
    };
    let into = tmp.path().join("a");
    let out = restore(&hostile, &into);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("trigger named \"forget\""), "{err}");
    assert_eq!(std::fs::read_dir(&into).unwrap().count(), 0);

    let into = tmp.path().join("b");
    let out = restore(&good, &into);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(into.join("hoclieu.sqlite3")).unwrap();
    assert_eq!(hoclieu::accounts::count(&conn).unwrap(), 1);
}
