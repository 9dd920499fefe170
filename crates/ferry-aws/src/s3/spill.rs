//! Source listings kept from the plan for the copy that follows it.
//!
//! `ferry apply` without `--plan` discovers, plans and copies in one process.
//! Discovery lists every source bucket to summarise it (the plan's "objects:"
//! note, and the Batch Operations threshold); the copy then needs the same
//! listing again. When the engine turns keeping on ([`Listings::keep_in`]),
//! discovery writes each listing to a file, one JSON object per line, page by
//! page as it reads it, so memory stays flat (ARCHITECTURE.md invariant 8); the copy of
//! that bucket replays the file instead of listing the bucket again, once,
//! and only if the listing finished less than [`REUSE_WITHIN`] before. A
//! bucket is listed once per apply instead of twice: half the ListObjectsV2
//! calls, and the copy starts without waiting for a first page.
//!
//! The copy then reflects the bucket as the plan listed it: an object added
//! after the listing waits for the next apply (as with any listing taken
//! before a copy), one deleted since is counted as vanished, one changed
//! since is copied as it is now. Verify never uses kept listings.
//!
//! A listing of more than [`MAX_KEPT_OBJECTS`] is not kept. The files live in `<state dir>/listings/` (the state directory is 0700),
//! are named by number, not by bucket, and are deleted once replayed, when
//! keeping stops, and when the process ends; a directory left by a killed
//! process is emptied the next time keeping starts.

use ferry_core::objects::ObjectEntry;
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A kept listing older than this is not replayed: the bucket is listed
/// again (a plan confirmed long after it was made copies what is there now).
pub const REUSE_WITHIN: Duration = Duration::from_secs(600);

/// A listing longer than this is not kept (its file would pass about 300
/// MB): the copy lists the bucket again.
pub const MAX_KEPT_OBJECTS: u64 = 2_000_000;

/// The listings one side keeps, shared by every clone of the side.
#[derive(Default)]
pub struct Listings {
    dir: Mutex<Option<PathBuf>>,
    kept: Mutex<HashMap<String, Kept>>,
    next: AtomicU64,
}

/// A complete listing on disk.
#[derive(Debug)]
pub struct Kept {
    pub path: PathBuf,
    pub at: Instant,
    pub objects: u64,
}

impl Listings {
    /// Keeps the listings discovery makes from now on, in `dir` (created
    /// 0700; files a killed process left there are removed).
    pub fn keep_in(&self, dir: &Path) -> std::io::Result<()> {
        self.clear();
        std::fs::create_dir_all(dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                let _ = std::fs::remove_file(path);
            }
        }
        *self.dir.lock().unwrap() = Some(dir.to_path_buf());
        Ok(())
    }

    /// Stops keeping and deletes what is kept.
    pub fn stop(&self) {
        *self.dir.lock().unwrap() = None;
        self.clear();
    }

    fn clear(&self) {
        for (_, k) in self.kept.lock().unwrap().drain() {
            let _ = std::fs::remove_file(k.path);
        }
    }

    /// A writer for `bucket`'s listing, when keeping is on.
    pub(crate) fn writer(&self, bucket: &str) -> Option<Spill> {
        let dir = self.dir.lock().unwrap().clone()?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{n}.jsonl"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .ok()?;
        Some(Spill {
            bucket: bucket.to_string(),
            path,
            out: Some(BufWriter::new(file)),
            objects: 0,
        })
    }

    fn keep(&self, bucket: String, kept: Kept) {
        if self.dir.lock().unwrap().is_none() {
            let _ = std::fs::remove_file(kept.path);
            return;
        }
        if let Some(old) = self.kept.lock().unwrap().insert(bucket, kept) {
            let _ = std::fs::remove_file(old.path);
        }
    }

    /// `bucket`'s kept listing if it is recent enough, handed over once (the
    /// caller deletes the file). A stale one is deleted.
    pub(crate) fn take(&self, bucket: &str, within: Duration) -> Option<Kept> {
        let kept = self.kept.lock().unwrap().remove(bucket)?;
        if kept.at.elapsed() < within {
            Some(kept)
        } else {
            let _ = std::fs::remove_file(kept.path);
            None
        }
    }
}

impl Drop for Listings {
    fn drop(&mut self) {
        self.clear();
    }
}

/// One listing being written. Dropped without [`Spill::finish`] (the
/// listing failed, or a write did), its file is deleted and nothing is kept.
pub(crate) struct Spill {
    bucket: String,
    path: PathBuf,
    /// None after a failed write: the rest of the listing is not written.
    out: Option<BufWriter<std::fs::File>>,
    objects: u64,
}

impl Spill {
    pub(crate) fn page(&mut self, entries: &[ObjectEntry]) {
        let Some(out) = self.out.as_mut() else {
            return;
        };
        if self.objects + entries.len() as u64 > MAX_KEPT_OBJECTS {
            self.out = None;
            return;
        }
        let written = entries.iter().try_for_each(|e| {
            serde_json::to_writer(&mut *out, e)?;
            out.write_all(b"\n").map_err(serde_json::Error::io)
        });
        match written {
            Ok(()) => self.objects += entries.len() as u64,
            Err(_) => self.out = None,
        }
    }

    /// The listing is complete: kept for the copy.
    pub(crate) fn finish(mut self, listings: &Listings) {
        let Some(out) = self.out.take() else {
            return;
        };
        if out.into_inner().is_err() {
            return;
        }
        let kept = Kept {
            path: std::mem::take(&mut self.path),
            at: Instant::now(),
            objects: self.objects,
        };
        listings.keep(std::mem::take(&mut self.bucket), kept);
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> ObjectEntry {
        ObjectEntry::new(key, 3, "etag", 1)
    }

    #[test]
    fn a_finished_listing_is_kept_once_and_its_file_goes_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let listings = Listings::default();
        assert!(listings.writer("b").is_none(), "off until keep_in");
        listings.keep_in(dir.path()).unwrap();
        let mut spill = listings.writer("b").unwrap();
        spill.page(&[entry("a"), entry("c d ü")]);
        spill.page(&[]);
        spill.finish(&listings);
        let kept = listings.take("b", REUSE_WITHIN).unwrap();
        assert_eq!(kept.objects, 2);
        let text = std::fs::read_to_string(&kept.path).unwrap();
        let back: Vec<ObjectEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, vec![entry("a"), entry("c d ü")]);
        assert!(
            listings.take("b", REUSE_WITHIN).is_none(),
            "handed over once"
        );
    }

    #[test]
    fn unfinished_stale_and_stopped_listings_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("7.jsonl"), "left by a killed run\n").unwrap();
        let listings = Listings::default();
        listings.keep_in(dir.path()).unwrap();
        let files = || std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files(), 0, "a killed run's files are removed");

        let mut failed = listings.writer("b").unwrap();
        failed.page(&[entry("a")]);
        drop(failed);
        assert_eq!(files(), 0);
        assert!(listings.take("b", REUSE_WITHIN).is_none());

        let spill = listings.writer("b").unwrap();
        spill.finish(&listings);
        assert!(listings.take("b", Duration::ZERO).is_none(), "stale");
        assert_eq!(files(), 0);

        let mut huge = listings.writer("h").unwrap();
        huge.objects = MAX_KEPT_OBJECTS;
        huge.page(&[entry("one too many")]);
        huge.finish(&listings);
        assert!(
            listings.take("h", REUSE_WITHIN).is_none(),
            "too long to keep"
        );
        assert_eq!(files(), 0);

        listings.writer("x").unwrap().finish(&listings);
        listings.writer("y").unwrap().finish(&listings);
        assert_eq!(files(), 2);
        listings.stop();
        assert_eq!(files(), 0);
        assert!(listings.writer("z").is_none());
    }
}
