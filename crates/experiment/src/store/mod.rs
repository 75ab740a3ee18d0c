//! The run store: one run directory, resumable and crash-safe.
//!
//! The main type is [`RunStore`]. Layout of `results/<experiment>/<run-id>/`:
//!
//! ```text
//! run.toml        the fully resolved config
//! run.json        run id, store format, agentscale version
//! events.jsonl    append-only event log, fsync'd: the source of truth for resume
//! rollouts/       <key>.json  one finished rollout (trajectory + meta)
//! partial/        <key>.json  the trajectory of a rollout in progress (removed when done)
//! summaries/      <key>.json
//! votes/          <key>.json
//! selections/     <key>.json  a frozen select-K or final selection
//! grades/         <key>.json
//! verifications/  <rollout key>.json  a Terminal-Bench rollout's live verification (read
//!                 only by grading, which turns it into the rollout's grade)
//! calls/          <key>.json  model replies, so a restarted rollout replays them
//! tables/         CSV + Parquet
//! ```
//!
//! Every artifact is written atomically (temp file + fsync + rename) *before* its "finished"
//! event is appended, so after a crash an artifact named by an event is always complete. An
//! artifact found without its event (a crash between the two) is adopted on first lookup.
//! Keys are content hashes of what made the artifact ([`keys`]).

pub mod events;
pub mod keys;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use events::{Event, EventLog, EventRecord};

/// The format written to `run.json`.
pub const STORE_FORMAT: &str = "agentscale-run/1";

/// Errors of the run store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing a file failed.
    #[error("run store: {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file of the run directory is damaged.
    #[error("run store: {} is damaged: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// Another process is running this run.
    #[error(
        "the run directory {} is in use by another agentscale process; wait for it to finish \
         or stop it first",
        path.display()
    )]
    Locked {
        /// The run directory.
        path: PathBuf,
    },
}

impl StoreError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// The kinds of artifacts, one folder each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `rollouts/`
    Rollout,
    /// `partial/`: trajectories of rollouts in progress.
    Partial,
    /// `summaries/`
    Summary,
    /// `votes/`
    Vote,
    /// `selections/`
    Selection,
    /// `grades/`
    Grade,
    /// `calls/`: the model-reply cache (no events).
    Call,
    /// `verifications/`: Terminal-Bench verifier results taken in the live container (no
    /// events; read only by grading).
    Verification,
}

impl Kind {
    /// The folder name.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Rollout => "rollouts",
            Self::Partial => "partial",
            Self::Summary => "summaries",
            Self::Vote => "votes",
            Self::Selection => "selections",
            Self::Grade => "grades",
            Self::Call => "calls",
            Self::Verification => "verifications",
        }
    }

    /// Every kind.
    pub const ALL: [Kind; 8] = [
        Kind::Rollout,
        Kind::Partial,
        Kind::Summary,
        Kind::Vote,
        Kind::Selection,
        Kind::Grade,
        Kind::Call,
        Kind::Verification,
    ];

    /// The event that marks an artifact of this kind finished.
    pub fn finished_event(self, key: &str) -> Option<Event> {
        let key = key.to_string();
        match self {
            Self::Rollout => Some(Event::RolloutFinished { key, infra: false }),
            Self::Summary => Some(Event::SummaryFinished { key }),
            Self::Vote => Some(Event::VoteFinished { key }),
            Self::Selection => Some(Event::SelectionFrozen { key }),
            Self::Grade => Some(Event::GradeFinished { key }),
            Self::Partial | Self::Call | Self::Verification => None,
        }
    }
}

/// What was found when a run directory was opened.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResumeInfo {
    /// Events already in the log.
    pub events: usize,
    /// Torn lines cut off the end of the log.
    pub torn_lines: u64,
    /// Finished artifacts by folder.
    pub finished: Vec<(String, usize)>,
    /// Infrastructure failures recorded so far (rollouts and grading).
    pub infra_failures: u64,
}

/// A run directory opened for reading and appending.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    log: EventLog,
    done: Mutex<HashMap<Kind, BTreeSet<String>>>,
    records: Vec<EventRecord>,
    resume: ResumeInfo,
    _lock: std::fs::File,
}

impl RunStore {
    /// Open a run directory, creating it if needed, and replay its event log. Fails when
    /// another process holds it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        let lock_path = dir.join(".lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    path: dir.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::io(&lock_path, e)),
        }
        for k in Kind::ALL {
            let d = dir.join(k.dir());
            std::fs::create_dir_all(&d).map_err(|e| StoreError::io(&d, e))?;
        }
        let events_path = dir.join("events.jsonl");
        let replay = events::replay(&events_path)?;
        let mut done: HashMap<Kind, BTreeSet<String>> = HashMap::new();
        let mut infra = 0u64;
        for r in &replay.records {
            let (kind, key) = match &r.event {
                Event::RolloutFinished { key, .. } => (Kind::Rollout, key),
                Event::SummaryFinished { key } => (Kind::Summary, key),
                Event::VoteFinished { key } => (Kind::Vote, key),
                Event::SelectionFrozen { key } => (Kind::Selection, key),
                Event::GradeFinished { key } => (Kind::Grade, key),
                Event::RolloutInfraFailure { .. } | Event::GradeInfraFailure { .. } => {
                    infra += 1;
                    continue;
                }
                _ => continue,
            };
            done.entry(kind).or_default().insert(key.clone());
        }
        let log = EventLog::open(&events_path, replay.records.len() as u64)?;
        let resume = ResumeInfo {
            events: replay.records.len(),
            torn_lines: replay.torn_lines,
            finished: Kind::ALL
                .iter()
                .filter_map(|k| done.get(k).map(|s| (k.dir().to_string(), s.len())))
                .collect(),
            infra_failures: infra,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            log,
            done: Mutex::new(done),
            records: replay.records,
            resume,
            _lock: lock,
        })
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What was found on open.
    pub fn resume_info(&self) -> &ResumeInfo {
        &self.resume
    }

    /// The events that were in the log when it was opened.
    pub fn replayed(&self) -> &[EventRecord] {
        &self.records
    }

    /// The file of an artifact.
    pub fn path(&self, kind: Kind, key: &str) -> PathBuf {
        artifact_path(&self.dir, kind, key)
    }

    /// True when the artifact's finished event is in the log.
    pub fn is_done(&self, kind: Kind, key: &str) -> bool {
        self.done
            .lock()
            .is_ok_and(|d| d.get(&kind).is_some_and(|s| s.contains(key)))
    }

    /// Keys of the finished artifacts of a kind, sorted.
    pub fn done_keys(&self, kind: Kind) -> Vec<String> {
        self.done
            .lock()
            .map(|d| {
                d.get(&kind)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// A finished artifact, or `None`. An artifact whose file exists and parses but whose
    /// event is missing (a crash between the two writes) is adopted: its event is appended.
    pub async fn lookup<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        Ok(match self.find(kind, key)? {
            Found::Finished(v) => Some(v),
            Found::Unlogged(v) => {
                if let Some(ev) = kind.finished_event(key) {
                    self.log.append(ev).await?;
                    self.mark_done(kind, key);
                }
                Some(v)
            }
            Found::Absent => None,
        })
    }

    /// [`RunStore::lookup`] for synchronous callers: an adopted artifact's event is appended
    /// without waiting.
    pub fn lookup_sync<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        Ok(match self.find(kind, key)? {
            Found::Finished(v) => Some(v),
            Found::Unlogged(v) => {
                if let Some(ev) = kind.finished_event(key) {
                    self.log.append_nowait(ev)?;
                    self.mark_done(kind, key);
                }
                Some(v)
            }
            Found::Absent => None,
        })
    }

    /// What the log and the artifact's file say about an artifact; a finished one whose file
    /// is missing is an error.
    fn find<T: DeserializeOwned>(&self, kind: Kind, key: &str) -> Result<Found<T>, StoreError> {
        let done = self.is_done(kind, key);
        let path = self.path(kind, key);
        match (done, read_json::<T>(&path)?) {
            (true, Some(v)) => Ok(Found::Finished(v)),
            (true, None) => Err(StoreError::Corrupt {
                path,
                message: "the event log says this artifact is finished but its file is missing; \
                          restore the file or move the run directory aside"
                    .into(),
            }),
            (false, Some(v)) => Ok(Found::Unlogged(v)),
            (false, None) => Ok(Found::Absent),
        }
    }

    /// [`RunStore::finish`] for synchronous callers: the artifact is written (and synced)
    /// before this returns; its event is appended without waiting.
    pub fn finish_sync<T: Serialize>(
        &self,
        kind: Kind,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let path = self.path(kind, key);
        let data = artifact_bytes(&path, value)?;
        agentscale_core::fsutil::atomic_write(&path, &data)
            .map_err(|e| StoreError::io(&path, e))?;
        if let Some(ev) = kind.finished_event(key) {
            self.log.append_nowait(ev)?;
        }
        self.mark_done(kind, key);
        Ok(())
    }

    /// Read an artifact file whatever the log says (for the model-reply cache and partial
    /// trajectories). Unreadable or damaged files read as `None`.
    pub fn peek<T: DeserializeOwned>(&self, kind: Kind, key: &str) -> Option<T> {
        read_json::<T>(&self.path(kind, key)).ok().flatten()
    }

    /// Write an artifact atomically, then append its finished event (and `extra`, if any).
    pub async fn finish<T: Serialize + Sync>(
        &self,
        kind: Kind,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        self.write(kind, key, value).await?;
        if let Some(ev) = kind.finished_event(key) {
            self.log.append(ev).await?;
        }
        self.mark_done(kind, key);
        Ok(())
    }

    /// Write an artifact atomically without an event (calls, partial trajectories).
    pub async fn write<T: Serialize + Sync>(
        &self,
        kind: Kind,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let path = self.path(kind, key);
        let data = artifact_bytes(&path, value)?;
        let p = path.clone();
        tokio::task::spawn_blocking(move || agentscale_core::fsutil::atomic_write(&p, &data))
            .await
            .map_err(|e| StoreError::io(&path, e))?
            .map_err(|e| StoreError::io(&path, e))
    }

    /// Remove an artifact file without an event (partial trajectories once finished).
    pub fn remove(&self, kind: Kind, key: &str) {
        let _ = std::fs::remove_file(self.path(kind, key));
    }

    /// Append an event (durable when this returns).
    pub async fn event(&self, event: Event) -> Result<u64, StoreError> {
        self.log.append(event).await
    }

    fn mark_done(&self, kind: Kind, key: &str) {
        if let Ok(mut d) = self.done.lock() {
            d.entry(kind).or_default().insert(key.to_string());
        }
    }
}

/// The file of an artifact in the run directory `dir`: `<kind dir>/<key>.json`, the key made
/// safe as a file name.
pub fn artifact_path(dir: &Path, kind: Kind, key: &str) -> PathBuf {
    dir.join(kind.dir()).join(format!(
        "{}.json",
        agentscale_core::fsutil::sanitize_file_name(key)
    ))
}

/// What [`RunStore::find`] found.
enum Found<T> {
    /// The artifact, with its finished event in the log.
    Finished(T),
    /// The artifact's file, without its event (a crash between the two writes).
    Unlogged(T),
    /// Neither.
    Absent,
}

/// The bytes of an artifact file at `path`: pretty JSON and a final newline.
fn artifact_bytes<T: Serialize>(path: &Path, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut data = serde_json::to_vec_pretty(value).map_err(|e| StoreError::io(path, e))?;
    data.push(b'\n');
    Ok(data)
}

/// Read a JSON file; `Ok(None)` when it is missing.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    match std::fs::read(path) {
        Ok(data) => serde_json::from_slice(&data)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                message: format!("not valid JSON for this artifact: {e}"),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finish_then_reopen_resumes() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = RunStore::open(dir.path()).unwrap();
            assert!(!s.is_done(Kind::Summary, "k1"));
            s.finish(Kind::Summary, "k1", &serde_json::json!({"x": 1}))
                .await
                .unwrap();
            assert!(s.is_done(Kind::Summary, "k1"));
            // a second open while the first is alive is refused
            assert!(matches!(
                RunStore::open(dir.path()),
                Err(StoreError::Locked { .. })
            ));
        }
        let s = RunStore::open(dir.path()).unwrap();
        assert!(s.is_done(Kind::Summary, "k1"));
        let v: Option<serde_json::Value> = s.lookup(Kind::Summary, "k1").await.unwrap();
        assert_eq!(v.unwrap()["x"], 1);
        assert_eq!(s.resume_info().events, 1);
        assert_eq!(s.done_keys(Kind::Summary), vec!["k1"]);
    }

    #[tokio::test]
    async fn artifact_without_event_is_adopted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = RunStore::open(dir.path()).unwrap();
            // the crash window: the file is written, the event is not
            s.write(Kind::Vote, "v1", &serde_json::json!({"verdict": 2}))
                .await
                .unwrap();
        }
        let s = RunStore::open(dir.path()).unwrap();
        assert!(!s.is_done(Kind::Vote, "v1"));
        let v: Option<serde_json::Value> = s.lookup(Kind::Vote, "v1").await.unwrap();
        assert_eq!(v.unwrap()["verdict"], 2);
        assert!(s.is_done(Kind::Vote, "v1"));
        drop(s);
        let s = RunStore::open(dir.path()).unwrap();
        assert!(s.is_done(Kind::Vote, "v1"));
    }

    #[tokio::test]
    async fn finished_event_without_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = RunStore::open(dir.path()).unwrap();
            s.finish(Kind::Grade, "g", &1).await.unwrap();
        }
        std::fs::remove_file(dir.path().join("grades/g.json")).unwrap();
        let s = RunStore::open(dir.path()).unwrap();
        let e = s.lookup::<u32>(Kind::Grade, "g").await.unwrap_err();
        assert!(e.to_string().contains("file is missing"), "{e}");
    }
}
