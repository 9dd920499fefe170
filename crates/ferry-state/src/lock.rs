//! The state directory lock: one ferry process mutating a state directory at a
//! time.
//!
//! It is an advisory `flock` on `DIR/lock` (through fs2). The kernel drops it when
//! the holder's file descriptor closes, including when the process is killed, so
//! there is no stale lock to clean up before resuming a killed apply. The file's
//! text only describes the holder for the error message; it is never trusted for
//! the locking decision itself.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use fs2::FileExt;

use crate::db::now;
use crate::{State, StateError};

/// File name of the lock inside the state directory.
pub const LOCK_FILE: &str = "lock";

/// Holds the state directory lock until dropped.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
    path: PathBuf,
}

impl LockGuard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Clear the holder text while still holding the lock so the next reader
        // never sees a description of a process that is gone. Failures here are
        // harmless: closing the descriptor releases the lock regardless.
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

impl State {
    /// Takes the exclusive state directory lock without waiting.
    ///
    /// Not waiting is deliberate: two applies against the same destination should
    /// not queue up silently; the second one tells the user who holds the lock.
    /// `purpose` (e.g. "apply", "rollback") is recorded for that message.
    pub fn lock(&self, purpose: &str) -> Result<LockGuard, StateError> {
        let path = self.dir().join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StateError::io("open the lock file", &path, e))?;

        match FileExt::try_lock_exclusive(&file) {
            Ok(()) => {}
            Err(e) if is_contended(&e) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "holder unknown: it is just starting".to_string()
                } else {
                    holder.to_string()
                };
                return Err(StateError::Locked {
                    path: self.dir().to_path_buf(),
                    holder,
                });
            }
            Err(e) => return Err(StateError::io("lock", &path, e)),
        }

        // From here on we own the file: fix its mode (the umask applied at
        // creation) and describe ourselves.
        std::fs::set_permissions(&path, Permissions::from_mode(0o600))
            .map_err(|e| StateError::io("set the permissions of", &path, e))?;
        let text = format!(
            "pid={} purpose={} since={}\n",
            std::process::id(),
            purpose,
            now()
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .and_then(|()| file.flush())
            .map_err(|e| StateError::io("write the lock holder into", &path, e))?;

        Ok(LockGuard { file, path })
    }
}

fn is_contended(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock
        || e.raw_os_error() == fs2::lock_contended_error().raw_os_error()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn second_lock_fails_naming_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let a = State::open(tmp.path()).unwrap();
        let b = State::open(tmp.path()).unwrap();
        let guard = a.lock("apply").unwrap();
        assert_eq!(guard.path(), tmp.path().join(LOCK_FILE));

        let err = b.lock("rollback").unwrap_err();
        let pid = format!("pid={} ", std::process::id());
        match &err {
            StateError::Locked { path, holder } => {
                assert_eq!(path, tmp.path());
                assert!(holder.starts_with(&pid), "{holder}");
                assert!(holder.contains("purpose=apply"), "{holder}");
                assert!(holder.contains("since=20"), "{holder}");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(&tmp.path().display().to_string()), "{msg}");
        assert!(msg.contains("locked by another ferry (pid="), "{msg}");
        assert!(msg.contains("purpose=apply"), "{msg}");
        assert!(msg.ends_with("wait for it to finish"), "{msg}");

        // The same State cannot take it twice either: each lock() opens its own
        // file description, and flock is per description.
        assert!(matches!(a.lock("apply"), Err(StateError::Locked { .. })));
        drop(guard);
    }

    #[test]
    fn lock_is_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let a = State::open(tmp.path()).unwrap();
        let b = State::open(tmp.path()).unwrap();
        drop(a.lock("apply").unwrap());
        let guard = b.lock("rollback").unwrap();
        let text = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert!(text.contains("purpose=rollback"), "{text}");
        assert!(!text.contains("purpose=apply"), "{text}");
        drop(guard);
        let text = std::fs::read_to_string(tmp.path().join(LOCK_FILE)).unwrap();
        assert_eq!(text, "", "holder text is cleared on release");
        drop(a.lock("apply").unwrap());
    }

    #[test]
    fn lock_file_is_private() {
        let tmp = tempfile::tempdir().unwrap();
        let a = State::open(tmp.path()).unwrap();
        let _guard = a.lock("apply").unwrap();
        let mode = std::fs::metadata(tmp.path().join(LOCK_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// Not a test on its own: the body of the child process spawned by
    /// `lock_of_a_killed_process_is_released`. Takes the lock and sleeps.
    #[test]
    #[ignore = "helper run as a child process"]
    fn child_holds_lock() {
        let Some(dir) = std::env::var_os("FERRY_STATE_TEST_LOCK_DIR") else {
            return;
        };
        let state = State::open(Path::new(&dir)).unwrap();
        let _guard = state.lock("apply").unwrap();
        std::thread::sleep(Duration::from_secs(60));
    }

    /// Kills the child if the test fails before it does.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn lock_of_a_killed_process_is_released() {
        let tmp = tempfile::tempdir().unwrap();
        let state = State::open(tmp.path()).unwrap();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "lock::tests::child_holds_lock", "--ignored"])
            .args(["--nocapture", "--test-threads=1"])
            .env("FERRY_STATE_TEST_LOCK_DIR", tmp.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut child = KillOnDrop(child);
        let child_pid = format!("pid={} ", child.0.id());

        // Wait until the child holds the lock. Only read the file meanwhile: taking
        // the lock here, even briefly, could make the child's attempt fail.
        let lock_file = tmp.path().join(LOCK_FILE);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&lock_file)
            .unwrap_or_default()
            .starts_with(&child_pid)
        {
            assert!(Instant::now() < deadline, "child never took the lock");
            std::thread::sleep(Duration::from_millis(20));
        }
        match state.lock("apply") {
            Err(StateError::Locked { holder, .. }) => {
                assert!(holder.starts_with(&child_pid), "{holder}")
            }
            other => panic!("expected Locked, got {other:?}"),
        }

        // SIGKILL: no destructor runs in the child, the lock file keeps its text.
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        let guard = state.lock("apply").expect("the kernel released the lock");
        drop(guard);
    }
}
