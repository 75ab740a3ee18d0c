//! The labels agentscale puts on containers and images, and the identity of this process
//! (pid, its start time, the machine's hostname) that lets a later run tell a container of a
//! dead run from one of a live run.

use std::collections::HashMap;

/// Container label: present on every container agentscale starts (`docker ps --filter
/// label=agentscale`). Images never get it from us.
pub const TOOL: &str = agentscale_core::CONTAINER_LABEL;
/// Container label: the run id.
pub const RUN: &str = "agentscale.run";
/// Container label: the pid of the agentscale process that started it.
pub const PID: &str = "agentscale.pid";
/// Container label: when that process started (clock ticks since boot; guards against pid reuse).
pub const PID_START: &str = "agentscale.pid_start";
/// Container label: the hostname of the machine running agentscale.
pub const HOST: &str = "agentscale.host";
/// Container label: the pool host (engine) name.
pub const ENGINE: &str = "agentscale.engine";
/// Image label: what kind of agentscale image this is (`base`, `build`, `import`, `snapshot`,
/// or the kind of a derived image such as `with-tmux`).
pub const IMAGE: &str = "agentscale.image";
/// Image label: the content hash an image was built from.
pub const IMAGE_HASH: &str = "agentscale.image.hash";

/// Who we are: the values of the pid, start-time and host labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// Our pid.
    pub pid: u32,
    /// Our start time in clock ticks since boot (`/proc/self/stat` field 22), if known.
    pub start: Option<u64>,
    /// The machine's hostname.
    pub hostname: String,
}

impl ProcessIdentity {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start: process_start(pid),
            hostname: hostname(),
        }
    }
}

/// The machine's hostname (`/proc/sys/kernel/hostname`, `/etc/hostname`, `$HOSTNAME`).
pub fn hostname() -> String {
    for p in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(p) {
            let s = s.trim();
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown-host".into())
}

/// The start time of a process in clock ticks since boot, from `/proc/<pid>/stat`.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_start(&stat)
}

/// Field 22 of a `/proc/<pid>/stat` line (the command name in parentheses may hold spaces).
pub fn parse_stat_start(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    // after ")" come fields 3.. ; starttime is field 22, i.e. index 19 here.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the process that labelled a container is still alive on this machine.
/// Unknown (no `/proc`) counts as alive, so that nothing is removed on a guess.
pub fn process_alive(pid: u32, start: Option<u64>) -> bool {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return true;
    }
    match process_start(pid) {
        None => false,
        Some(now) => start.is_none_or(|s| s == now),
    }
}

/// The labels of a container started by this process for `run`.
pub fn container_labels(
    me: &ProcessIdentity,
    run: &str,
    engine: &str,
    extra: &std::collections::BTreeMap<String, String>,
) -> HashMap<String, String> {
    let mut l: HashMap<String, String> =
        extra.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    l.insert(TOOL.into(), "1".into());
    l.insert(RUN.into(), run.into());
    l.insert(PID.into(), me.pid.to_string());
    if let Some(s) = me.start {
        l.insert(PID_START.into(), s.to_string());
    }
    l.insert(HOST.into(), me.hostname.clone());
    l.insert(ENGINE.into(), engine.into());
    l
}

/// Why a container found on an engine is stale (its process is dead on this machine), or
/// `None` when it must be left alone (another machine's, a live process's, or not ours).
pub fn stale_reason<S: std::hash::BuildHasher>(
    labels: &HashMap<String, String, S>,
    me: &ProcessIdentity,
) -> Option<String> {
    if !labels.contains_key(TOOL) {
        return None;
    }
    if labels.get(HOST).map(String::as_str) != Some(me.hostname.as_str()) {
        return None;
    }
    let pid: u32 = labels.get(PID)?.parse().ok()?;
    let start = labels.get(PID_START).and_then(|s| s.parse().ok());
    if pid == me.pid && (start.is_none() || start == me.start) {
        return None;
    }
    if process_alive(pid, start) {
        return None;
    }
    Some(format!(
        "started by pid {pid} (run {}) on {}, which is no longer running",
        labels.get(RUN).map_or("?", String::as_str),
        me.hostname
    ))
}

/// Labels for a snapshot image. The engine copies a container's labels into an image it
/// commits and offers no way to drop one, so the process labels are blanked (a container
/// started from the snapshot by another tool is never taken for a live or stale one of ours).
pub fn snapshot_labels(source_container: &str) -> HashMap<String, String> {
    let mut l = HashMap::new();
    l.insert(IMAGE.into(), "snapshot".into());
    l.insert("agentscale.image.source".into(), source_container.into());
    l.insert(TOOL.into(), "image".into());
    // the build hash of the image the container started from does not describe the snapshot
    for k in [RUN, PID, PID_START, HOST, ENGINE, IMAGE_HASH] {
        l.insert(k.into(), String::new());
    }
    l
}

/// Labels for an image derived from `base` by a script ([`crate::derive`]): `kind` (e.g.
/// `with-tmux`) for image listings and pruning, the content hash, the base; process labels
/// blanked as in [`snapshot_labels`].
pub fn derived_labels(
    source_container: &str,
    base: &str,
    kind: &str,
    hash: &str,
) -> HashMap<String, String> {
    let mut l = snapshot_labels(source_container);
    l.insert(IMAGE.into(), kind.into());
    l.insert(IMAGE_HASH.into(), hash.into());
    l.insert("agentscale.image.base".into(), base.into());
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> ProcessIdentity {
        ProcessIdentity::current()
    }

    #[test]
    fn stat_start_survives_odd_names() {
        let line =
            "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(parse_stat_start(line), Some(98765));
        assert_eq!(parse_stat_start("garbage"), None);
    }

    #[test]
    fn our_own_process_is_alive_and_a_dead_pid_is_not() {
        let m = me();
        assert!(m.start.is_some());
        assert!(process_alive(m.pid, m.start));
        // pid reuse: same pid, other start time
        assert!(!process_alive(m.pid, m.start.map(|s| s + 1)));
        // pids above the kernel's maximum never exist
        assert!(!process_alive(4_194_304 + 7, None));
    }

    #[test]
    fn only_dead_local_processes_make_containers_stale() {
        let m = me();
        let mut l = container_labels(&m, "r1", "local", &std::collections::BTreeMap::new());
        assert_eq!(stale_reason(&l, &m), None, "our own container is not stale");
        l.insert(PID.into(), "4194311".into());
        assert!(stale_reason(&l, &m).unwrap().contains("4194311"));
        l.insert(HOST.into(), "another-machine".into());
        assert_eq!(stale_reason(&l, &m), None, "another machine's container");
        let mut foreign = HashMap::new();
        foreign.insert("com.example".to_string(), "x".to_string());
        assert_eq!(stale_reason(&foreign, &m), None);
        let snap = snapshot_labels("abc");
        assert_eq!(stale_reason(&snap, &m), None, "snapshot labels are inert");
    }
}
