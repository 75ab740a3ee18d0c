//! The append-only event log of a run (`events.jsonl`), the source of truth for resume.
//!
//! The main type is [`EventLog`]: one JSON object per line, appended by a writer thread that
//! batches concurrent appends into one write and one `fsync` (group commit), and acknowledges
//! each append only once it is durable. On open, a torn last line — what a SIGKILL or power
//! loss in the middle of a write leaves — is detected, counted and cut off, so later appends
//! stay well formed; a damaged line in the middle is an error naming its line number.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

use super::StoreError;

/// Something that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The run process started (fresh or resumed).
    RunStarted {
        /// The run id.
        run_id: String,
        /// agentscale's version.
        version: String,
        /// The process id.
        pid: u32,
        /// True when the run directory already held events.
        resumed: bool,
        /// Torn lines cut off the end of the log when it was opened.
        torn_lines: u64,
    },
    /// A rollout attempt started.
    RolloutStarted {
        /// The rollout's key.
        key: String,
        /// 0-based attempt number (attempts after infrastructure failures).
        attempt: u32,
    },
    /// A rollout attempt failed because of the infrastructure; it will be retried or given
    /// up on.
    RolloutInfraFailure {
        /// The rollout's key.
        key: String,
        /// The attempt that failed.
        attempt: u32,
        /// What failed.
        error: String,
    },
    /// A rollout is finished and stored (`rollouts/<key>.json`).
    RolloutFinished {
        /// The rollout's key.
        key: String,
        /// True when it was given up on after repeated infrastructure failures.
        infra: bool,
    },
    /// A Terminal-Bench rollout's container is about to be committed to `image`. Written
    /// (durably) before the commit, so that an image left by a process killed between the
    /// commit and the rollout's record can be found and removed when the run resumes.
    SnapshotStarted {
        /// The rollout's key.
        key: String,
        /// The image name the container is committed to.
        image: String,
    },
    /// A summary is stored (`summaries/<key>.json`).
    SummaryFinished {
        /// The summary's key.
        key: String,
    },
    /// A judge vote is stored (`votes/<key>.json`).
    VoteFinished {
        /// The vote's key.
        key: String,
    },
    /// A selection (select-K or final) is frozen and stored (`selections/<key>.json`).
    SelectionFrozen {
        /// The selection's key.
        key: String,
    },
    /// A grading attempt failed because of the infrastructure.
    GradeInfraFailure {
        /// The grade's key.
        key: String,
        /// The attempt that failed.
        attempt: u32,
        /// What failed.
        error: String,
    },
    /// A grade is stored (`grades/<key>.json`).
    GradeFinished {
        /// The grade's key.
        key: String,
    },
    /// A piece of work was cut off by a stop of the run (signal, budget): nothing of it is
    /// stored, it is not a failure, and the next process of the run does it again.
    WorkInterrupted {
        /// `rollouts`, `summaries`, `votes` or `grading`.
        stage: String,
        /// The work's key (a rollout or grade key; a task and step for selection).
        key: String,
        /// The attempt that was cut off.
        attempt: u32,
        /// Why the run stopped.
        reason: String,
    },
    /// The tables were written.
    TablesWritten {
        /// How many tables.
        tables: usize,
    },
    /// The run process ended normally.
    RunFinished {
        /// True when every stage completed.
        complete: bool,
    },
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// 0-based position in the log.
    pub seq: u64,
    /// Unix milliseconds when it was appended (informational; never used for results).
    pub t_ms: u64,
    /// The event.
    pub event: Event,
}

/// What was found in an existing log.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// The events, in order.
    pub records: Vec<EventRecord>,
    /// Torn lines cut off the end (0 or 1).
    pub torn_lines: u64,
}

/// Read a log, cutting off a torn last line. Lines that fail to parse elsewhere are errors.
pub fn replay(path: &Path) -> Result<Replay, StoreError> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Replay::default()),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let mut out = Replay::default();
    let mut good_len = 0usize;
    let mut line_no = 0usize;
    let mut rest = &data[..];
    while !rest.is_empty() {
        line_no += 1;
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            // no newline: a torn write at the end
            out.torn_lines += 1;
            break;
        };
        let line = &rest[..nl];
        if !line.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<EventRecord>(line) {
                Ok(r) => out.records.push(r),
                Err(e) => {
                    let is_last = nl + 1 == rest.len();
                    if is_last && line.contains(&0) {
                        // zero-filled tail after a power loss
                        out.torn_lines += 1;
                        break;
                    }
                    return Err(StoreError::Corrupt {
                        path: path.to_path_buf(),
                        message: format!(
                            "line {line_no} is not a valid event ({e}); the run directory is \
                             damaged: move it aside and start the run again"
                        ),
                    });
                }
            }
        }
        good_len += nl + 1;
        rest = &rest[nl + 1..];
    }
    if out.torn_lines > 0 {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io(path, e))?;
        f.set_len(good_len as u64)
            .and_then(|()| f.sync_all())
            .map_err(|e| StoreError::io(path, e))?;
        tracing::warn!(
            "{}: cut off a torn last line left by an interrupted write",
            path.display()
        );
    }
    Ok(out)
}

enum Cmd {
    Append(Event, tokio::sync::oneshot::Sender<Result<u64, String>>),
}

/// The appender of a run's event log.
#[derive(Debug)]
pub struct EventLog {
    path: PathBuf,
    tx: mpsc::Sender<Cmd>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

impl EventLog {
    /// Open (creating) the log for appending; `next_seq` is the number of events already in
    /// it.
    pub fn open(path: &Path, next_seq: u64) -> Result<Self, StoreError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| StoreError::io(path, e))?;
        let (tx, rx) = mpsc::channel::<Cmd>();
        let p = path.to_path_buf();
        std::thread::Builder::new()
            .name("agentscale-events".into())
            .spawn(move || writer(&p, file, &rx, next_seq))
            .map_err(|e| StoreError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            tx,
        })
    }

    /// Append an event; returns once it is on disk (fsync'd), with its sequence number.
    pub async fn append(&self, event: Event) -> Result<u64, StoreError> {
        let (ack, done) = tokio::sync::oneshot::channel();
        self.tx
            .send(Cmd::Append(event, ack))
            .map_err(|_| self.closed())?;
        match done.await {
            Ok(Ok(seq)) => Ok(seq),
            Ok(Err(message)) => Err(StoreError::Io {
                path: self.path.clone(),
                message,
            }),
            Err(_) => Err(self.closed()),
        }
    }

    /// Append an event without waiting for it to be durable (it is, within one group commit).
    /// For callers that cannot wait (synchronous code): a crash may lose the event, never
    /// tear it, and the artifact it announces is adopted on the next lookup.
    pub fn append_nowait(&self, event: Event) -> Result<(), StoreError> {
        let (ack, _) = tokio::sync::oneshot::channel();
        self.tx
            .send(Cmd::Append(event, ack))
            .map_err(|_| self.closed())
    }

    fn closed(&self) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            message: "the event writer stopped".into(),
        }
    }
}

fn writer(path: &Path, mut file: std::fs::File, rx: &mpsc::Receiver<Cmd>, mut seq: u64) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 4096 {
                break;
            }
        }
        let mut buf = Vec::with_capacity(batch.len() * 96);
        let mut acks = Vec::with_capacity(batch.len());
        for Cmd::Append(event, ack) in batch {
            let rec = EventRecord {
                seq,
                t_ms: agentscale_core::time::now_ms(),
                event,
            };
            match serde_json::to_vec(&rec) {
                Ok(line) => {
                    buf.extend_from_slice(&line);
                    buf.push(b'\n');
                    acks.push((ack, Ok(seq)));
                    seq += 1;
                }
                Err(e) => acks.push((ack, Err(format!("cannot encode event: {e}")))),
            }
        }
        let result = file.write_all(&buf).and_then(|()| file.sync_data());
        if let Err(e) = &result {
            tracing::error!("{}: writing events failed: {e}", path.display());
        }
        for (ack, r) in acks {
            let r = match (&result, r) {
                (Err(e), _) => Err(e.to_string()),
                (Ok(()), r) => r,
            };
            let _ = ack.send(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(key: &str) -> Event {
        Event::SummaryFinished { key: key.into() }
    }

    #[tokio::test]
    async fn appends_are_durable_and_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        let log = EventLog::open(&p, 0).unwrap();
        let mut handles = Vec::new();
        let log = std::sync::Arc::new(log);
        for i in 0..50 {
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                log.append(ev(&format!("k{i}"))).await
            }));
        }
        let mut seqs = Vec::new();
        for h in handles {
            seqs.push(h.await.unwrap().unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..50).collect::<Vec<_>>());
        let r = replay(&p).unwrap();
        assert_eq!(r.records.len(), 50);
        assert_eq!(r.torn_lines, 0);
        assert!(
            r.records
                .iter()
                .enumerate()
                .all(|(i, rec)| rec.seq == i as u64)
        );
    }

    #[test]
    fn torn_last_line_is_cut_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        let good = serde_json::to_string(&EventRecord {
            seq: 0,
            t_ms: 1,
            event: ev("a"),
        })
        .unwrap();
        std::fs::write(&p, format!("{good}\n{{\"seq\":1,\"t_ms\":2,\"ev")).unwrap();
        let r = replay(&p).unwrap();
        assert_eq!((r.records.len(), r.torn_lines), (1, 1));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), format!("{good}\n"));
        // a second replay finds a clean log
        assert_eq!(replay(&p).unwrap().torn_lines, 0);
    }

    #[test]
    fn damage_in_the_middle_is_an_error_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.jsonl");
        let good = serde_json::to_string(&EventRecord {
            seq: 0,
            t_ms: 1,
            event: ev("a"),
        })
        .unwrap();
        std::fs::write(&p, format!("{good}\nnot json\n{good}\n")).unwrap();
        let e = replay(&p).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// A crash can leave any prefix of the file: replay keeps exactly the complete lines
        /// before the cut, never fails, and leaves a file that appends cleanly.
        #[test]
        fn any_prefix_replays_to_its_complete_lines(n in 1usize..30, cut_frac in 0.0f64..1.0) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("events.jsonl");
            let mut text = String::new();
            let mut ends = Vec::new();
            for i in 0..n {
                let rec = EventRecord {
                    seq: i as u64,
                    t_ms: 1,
                    event: Event::VoteFinished { key: format!("vote-{i}-{}", "x".repeat(i % 7)) },
                };
                text.push_str(&serde_json::to_string(&rec).unwrap());
                text.push('\n');
                ends.push(text.len());
            }
            let cut = ((text.len() as f64) * cut_frac) as usize;
            std::fs::write(&p, &text.as_bytes()[..cut]).unwrap();
            let r = replay(&p).unwrap();
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            prop_assert_eq!(r.records.len(), complete);
            prop_assert_eq!(r.torn_lines, u64::from(!ends.contains(&cut) && cut > 0));
            let after = std::fs::read(&p).unwrap();
            prop_assert!(after.is_empty() || after.ends_with(b"\n"));
        }
    }
}
