//! Running one command in a container: the command is wrapped in `timeout -k` so that the
//! process (and its process group: every exec is its own session) is killed *inside* the
//! container when its time is up; stdout and stderr stream into bounded [`HeadTail`]
//! captures; a container that dies meanwhile yields [`SandboxError::ContainerGone`] as soon as
//! the engine closes the stream.
//!
//! Images without coreutils' `timeout` are detected on the first command; from then on a
//! small `sh` wrapper records the process group and the client kills it when time is up.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agentscale_core::sandbox::{Command, ExecOutput, ExecRequest, SandboxError};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::ExecConfig;
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::capture::HeadTail;
use crate::connect::{classify, is_connection_error, message, status};

/// How commands are timed in a container (learned on its first command).
pub(crate) const MODE_UNKNOWN: u8 = 0;
/// coreutils/busybox `timeout` is present.
pub(crate) const MODE_TIMEOUT: u8 = 1;
/// No `timeout`: the `sh` wrapper and a client-side kill.
pub(crate) const MODE_FALLBACK: u8 = 2;

/// The longest timeout accepted (a week): longer values are surely a unit mistake.
const MAX_TIMEOUT: Duration = Duration::from_secs(agentscale_core::time::MAX_TIMEOUT_SEC as u64);
/// How long past timeout + grace the client waits for the engine before giving up.
pub(crate) const CLIENT_SLACK: Duration = Duration::from_secs(10);

/// How often a long command checks that its engine still answers.
pub(crate) const HEALTH_EVERY: Duration = Duration::from_secs(5);

/// Whether the engine answers a ping within 3 s (a dead remote engine may drop connections
/// without closing them; this is how a command waiting on it finds out).
pub(crate) async fn engine_answers(docker: &Docker) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(3), docker.ping()).await,
        Ok(Ok(_))
    )
}

/// A ticker for [`HEALTH_EVERY`] whose first tick is one period away.
pub(crate) fn health_ticker() -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(tokio::time::Instant::now() + HEALTH_EVERY, HEALTH_EVERY);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

/// What an exec needs to know about its container.
pub(crate) struct ExecContext<'a> {
    pub docker: &'a Docker,
    pub container: &'a str,
    pub endpoint: &'a str,
    pub default_cap: usize,
    pub kill_grace: Duration,
    pub default_workdir: Option<&'a str>,
    pub mode: &'a AtomicU8,
    pub seq: &'a AtomicU64,
}

/// Seconds with millisecond precision, as `timeout` accepts them.
pub(crate) fn secs_arg(d: Duration) -> String {
    let ms = d.as_millis().max(1);
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Check a request before anything is sent.
pub(crate) fn validate(req: &ExecRequest) -> Result<(), SandboxError> {
    let bad = |m: String| Err(SandboxError::InvalidRequest(m));
    match &req.command {
        Command::Shell(s) if s.contains('\0') => {
            return bad("the command contains a NUL byte".into());
        }
        Command::Argv(v) if v.is_empty() || v[0].is_empty() => {
            return bad("the argument vector is empty".into());
        }
        Command::Argv(v) if v.iter().any(|a| a.contains('\0')) => {
            return bad(format!("an argument contains a NUL byte: {v:?}"));
        }
        _ => {}
    }
    if req.timeout.is_zero() {
        return bad(format!("the timeout of `{}` is zero", req.display()));
    }
    if req.timeout > MAX_TIMEOUT {
        return bad(format!(
            "the timeout of `{}` is {} s, more than a week; is the unit right?",
            req.display(),
            req.timeout.as_secs()
        ));
    }
    for (k, v) in &req.env {
        if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
            return bad(format!("invalid environment variable name or value: {k:?}"));
        }
    }
    if req.output_cap == Some(0) {
        return bad("output_cap must be at least 1 byte".into());
    }
    Ok(())
}

/// The command line itself, without any timing wrapper.
fn base_argv(req: &ExecRequest) -> Vec<String> {
    match &req.command {
        Command::Shell(s) => vec!["bash".into(), "-c".into(), s.clone()],
        Command::Argv(v) => v.clone(),
    }
}

/// `timeout -k GRACE SECS cmd...`: TERM at the deadline, KILL `grace` later, to the whole
/// process group.
pub(crate) fn timeout_argv(req: &ExecRequest, grace: Duration) -> Vec<String> {
    let mut v = vec![
        "timeout".to_string(),
        "-k".to_string(),
        secs_arg(grace),
        secs_arg(req.timeout),
    ];
    v.extend(base_argv(req));
    v
}

/// `sh -c 'echo $$ > F; "$@"; ...' sh cmd...`: the shell leads the exec's process group and
/// records its pid so the client can kill the group.
fn fallback_argv(req: &ExecRequest, pid_file: &str) -> Vec<String> {
    let script = format!("echo $$ > {pid_file}; \"$@\"; s=$?; rm -f {pid_file}; exit $s");
    let mut v = vec!["sh".to_string(), "-c".to_string(), script, "sh".to_string()];
    v.extend(base_argv(req));
    v
}

fn missing_timeout_binary(code: Option<i64>, out: &str) -> bool {
    matches!(code, Some(126 | 127))
        && out.contains("timeout")
        && (out.contains("not found") || out.contains("no such file"))
}

struct Raw {
    stdout: HeadTail,
    stderr: HeadTail,
    exit_code: Option<i64>,
    client_timeout: bool,
    elapsed: Duration,
}

/// Run one command.
pub(crate) async fn run(
    ctx: &ExecContext<'_>,
    req: &ExecRequest,
) -> Result<ExecOutput, SandboxError> {
    validate(req)?;
    let started = Instant::now();
    let mode = ctx.mode.load(Ordering::Relaxed);
    let raw = if mode == MODE_FALLBACK {
        run_fallback(ctx, req).await?
    } else {
        let raw = attempt(ctx, req, timeout_argv(req, ctx.kill_grace), None).await?;
        if mode == MODE_UNKNOWN {
            let head = peek(&raw);
            let text = String::from_utf8_lossy(&head);
            if missing_timeout_binary(raw.exit_code, &text) {
                tracing::info!(
                    container = ctx.container,
                    "image has no `timeout`; timing commands from the client"
                );
                ctx.mode.store(MODE_FALLBACK, Ordering::Relaxed);
                run_fallback(ctx, req).await?
            } else {
                ctx.mode.store(MODE_TIMEOUT, Ordering::Relaxed);
                raw
            }
        } else {
            raw
        }
    };
    finish(ctx, req, raw, started).await
}

/// The first bytes of both streams (to recognise the engine's "not found" message).
fn peek(raw: &Raw) -> Vec<u8> {
    let mut v = raw.stdout.clone().finish().0.into_bytes();
    v.extend_from_slice(raw.stderr.clone().finish().0.as_bytes());
    v.truncate(4096);
    v
}

async fn run_fallback(ctx: &ExecContext<'_>, req: &ExecRequest) -> Result<Raw, SandboxError> {
    let n = ctx.seq.fetch_add(1, Ordering::Relaxed);
    let pid_file = format!("/tmp/.agentscale-exec-{n}.pid");
    attempt(ctx, req, fallback_argv(req, &pid_file), Some(&pid_file)).await
}

/// Kill the process group recorded in `pid_file` (fallback mode), TERM then KILL.
async fn kill_recorded_group(ctx: &ExecContext<'_>, pid_file: &str) {
    let script = format!(
        "p=$(cat {pid_file} 2>/dev/null) || exit 0; kill -TERM -$p 2>/dev/null; sleep {g}; kill -KILL -$p 2>/dev/null; rm -f {pid_file}",
        g = secs_arg(ctx.kill_grace)
    );
    spawn_detached(
        ctx.docker,
        ctx.container,
        vec!["sh".into(), "-c".into(), script],
    )
    .await;
}

/// Start `cmd` in `container` without waiting for it or reading its output; failures are
/// ignored (best-effort kills).
pub(crate) async fn spawn_detached(docker: &Docker, container: &str, cmd: Vec<String>) {
    let cfg = ExecConfig {
        cmd: Some(cmd),
        ..ExecConfig::default()
    };
    if let Ok(created) = docker.create_exec(container, cfg).await {
        let _ = docker
            .start_exec(
                &created.id,
                Some(StartExecOptions {
                    detach: true,
                    ..StartExecOptions::default()
                }),
            )
            .await;
    }
}

/// The start options of an exec whose output is streamed back (attached, no TTY, 64 KiB
/// reads).
pub(crate) fn attached() -> StartExecOptions {
    StartExecOptions {
        detach: false,
        tty: false,
        output_capacity: Some(64 * 1024),
    }
}

fn gone(container: &str, message: impl Into<String>) -> SandboxError {
    SandboxError::ContainerGone {
        container: container.to_string(),
        message: message.into(),
    }
}

/// Map an engine error of an exec call.
fn exec_error(ctx: &ExecContext<'_>, op: &str, e: bollard::errors::Error) -> SandboxError {
    match status(&e) {
        Some(404 | 409) => gone(ctx.container, format!("{op}: {}", message(&e))),
        _ => classify(op, ctx.endpoint, e),
    }
}

async fn attempt(
    ctx: &ExecContext<'_>,
    req: &ExecRequest,
    argv: Vec<String>,
    pid_file: Option<&str>,
) -> Result<Raw, SandboxError> {
    let started = Instant::now();
    let cap = req.output_cap.unwrap_or(ctx.default_cap).max(1);
    let cfg = ExecConfig {
        attach_stdin: Some(req.stdin.is_some()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        env: (!req.env.is_empty())
            .then(|| req.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        cmd: Some(argv),
        user: req.user.clone(),
        working_dir: req
            .workdir
            .clone()
            .or_else(|| ctx.default_workdir.map(str::to_string)),
        ..ExecConfig::default()
    };
    let created = ctx
        .docker
        .create_exec(ctx.container, cfg)
        .await
        .map_err(|e| exec_error(ctx, "exec create", e))?;
    let started_exec = ctx
        .docker
        .start_exec(&created.id, Some(attached()))
        .await
        .map_err(|e| exec_error(ctx, "exec start", e))?;
    let StartExecResults::Attached { mut output, input } = started_exec else {
        return Err(SandboxError::backend(
            "exec start",
            "the engine did not attach",
        ));
    };
    let writer = req.stdin.clone().map(|bytes| {
        let mut input = input;
        tokio::spawn(async move {
            let _ = input.write_all(&bytes).await;
            let _ = input.shutdown().await;
        })
    });

    let mut stdout = HeadTail::new(cap);
    let mut stderr = HeadTail::new(cap);
    let client_deadline = if pid_file.is_some() {
        req.timeout
    } else {
        req.timeout + ctx.kill_grace + CLIENT_SLACK
    };
    let deadline = tokio::time::sleep(client_deadline);
    tokio::pin!(deadline);
    let mut stream_error = None;
    // fallback mode: the client killed the group at the deadline; both modes: the client gave
    // up waiting for the engine (the stream never ended)
    let mut killed = false;
    let mut gave_up = false;
    let mut health = health_ticker();
    loop {
        tokio::select! {
            _ = health.tick() => {
                if !engine_answers(ctx.docker).await {
                    return Err(crate::connect::unreachable(
                        ctx.endpoint,
                        format!("the engine stopped answering while `{}` ran", short(&req.display())),
                    ));
                }
            }
            item = output.next() => match item {
                Some(Ok(LogOutput::StdOut { message } | LogOutput::Console { message })) => stdout.push(&message),
                Some(Ok(LogOutput::StdErr { message })) => stderr.push(&message),
                Some(Ok(LogOutput::StdIn { .. })) => {}
                Some(Err(e)) => { stream_error = Some(e); break; }
                None => break,
            },
            () = &mut deadline => {
                match pid_file {
                    Some(pf) if !killed => {
                        killed = true;
                        kill_recorded_group(ctx, pf).await;
                        // keep reading: the stream ends once the group is dead
                        deadline.as_mut().reset(
                            tokio::time::Instant::now() + ctx.kill_grace + CLIENT_SLACK,
                        );
                    }
                    _ => {
                        gave_up = true;
                        break;
                    }
                }
            }
        }
    }
    if let Some(w) = writer {
        w.abort();
    }
    drop(output);

    let mut exit_code = None;
    if !gave_up {
        // the stream ended: the process has exited (or the container is gone)
        let poll_until = Instant::now() + Duration::from_secs(2);
        loop {
            match ctx.docker.inspect_exec(&created.id).await {
                Ok(i) if i.running == Some(true) && Instant::now() < poll_until => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(i) => {
                    exit_code = i.exit_code;
                    break;
                }
                Err(e) if status(&e) == Some(404) => {
                    return Err(gone(
                        ctx.container,
                        "the exec vanished: the container was removed",
                    ));
                }
                Err(e) => return Err(exec_error(ctx, "exec inspect", e)),
            }
        }
    }
    if let Some(e) = stream_error
        && is_connection_error(&e)
    {
        check_container(ctx, "the output stream broke").await?;
        return Err(classify("exec stream", ctx.endpoint, e));
    }
    Ok(Raw {
        stdout,
        stderr,
        exit_code,
        client_timeout: killed || gave_up,
        elapsed: started.elapsed(),
    })
}

/// Fail with `ContainerGone` when the container is not running any more.
pub(crate) async fn check_container(ctx: &ExecContext<'_>, what: &str) -> Result<(), SandboxError> {
    let inspect = tokio::time::timeout(
        Duration::from_secs(10),
        ctx.docker.inspect_container(ctx.container, None),
    )
    .await
    .map_err(|_| {
        crate::connect::unreachable(
            ctx.endpoint,
            format!("{what}: the engine did not answer an inspect within 10 s"),
        )
    })?;
    match inspect {
        Ok(c) => {
            let st = c.state.unwrap_or_default();
            if st.running == Some(true) {
                Ok(())
            } else {
                Err(gone(
                    ctx.container,
                    format!(
                        "{what}: the container stopped (status {}, exit code {}, OOM-killed {})",
                        st.status.map_or_else(|| "?".into(), |s| s.to_string()),
                        st.exit_code.map_or_else(|| "?".into(), |c| c.to_string()),
                        st.oom_killed.unwrap_or(false)
                    ),
                ))
            }
        }
        Err(e) if status(&e) == Some(404) => Err(gone(
            ctx.container,
            format!("{what}: the container was removed"),
        )),
        Err(e) => Err(exec_error(ctx, "inspect", e)),
    }
}

async fn finish(
    ctx: &ExecContext<'_>,
    req: &ExecRequest,
    raw: Raw,
    started: Instant,
) -> Result<ExecOutput, SandboxError> {
    // an abnormal end (no code, or killed by a signal) may mean the container died
    let abnormal = raw.exit_code.is_none_or(|c| c >= 128) || raw.client_timeout;
    if abnormal {
        check_container(ctx, &format!("while running `{}`", short(&req.display()))).await?;
    }
    let timed_out = raw.client_timeout
        || (raw.elapsed >= req.timeout && matches!(raw.exit_code, Some(124 | 137 | 143)));
    let (stdout, stdout_elided) = raw.stdout.finish();
    let (stderr, stderr_elided) = raw.stderr.finish();
    Ok(ExecOutput {
        stdout,
        stderr,
        exit_code: if timed_out { None } else { raw.exit_code },
        timed_out,
        duration_ms: started.elapsed().as_millis() as u64,
        stdout_elided,
        stderr_elided,
    })
}

pub(crate) fn short(s: &str) -> String {
    let mut t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_in_timeout_with_grace() {
        let req = ExecRequest::shell("echo hi", Duration::from_millis(2500));
        assert_eq!(
            timeout_argv(&req, Duration::from_secs(2)),
            vec!["timeout", "-k", "2.000", "2.500", "bash", "-c", "echo hi"]
        );
        let req = ExecRequest::argv(["ls", "-l"], Duration::from_secs(1));
        assert_eq!(
            timeout_argv(&req, Duration::from_secs(1))[4..],
            ["ls".to_string(), "-l".to_string()]
        );
        let f = fallback_argv(&req, "/tmp/p");
        assert_eq!(&f[..2], ["sh", "-c"]);
        assert!(f[2].starts_with("echo $$ > /tmp/p;"));
        assert_eq!(&f[3..], ["sh", "ls", "-l"]);
    }

    #[test]
    fn bad_requests_are_rejected_with_reasons() {
        let t = Duration::from_secs(1);
        let cases = [
            (ExecRequest::argv(Vec::<String>::new(), t), "empty"),
            (ExecRequest::shell("ls", Duration::ZERO), "zero"),
            (
                ExecRequest::shell("ls", Duration::from_hours(8 * 24)),
                "week",
            ),
            (ExecRequest::shell("a\0b", t), "NUL"),
            (ExecRequest::shell("ls", t).env("A=B", "c"), "environment"),
            (ExecRequest::shell("ls", t).output_cap(0), "output_cap"),
        ];
        for (req, word) in cases {
            let e = validate(&req).unwrap_err();
            assert!(e.to_string().contains(word), "{e} lacks {word}");
            assert!(!e.is_infra());
        }
        assert!(validate(&ExecRequest::shell("ls", t).env("A", "b=c")).is_ok());
    }

    #[test]
    fn recognises_a_missing_timeout_binary() {
        let msg = r#"OCI runtime exec failed: exec failed: container_linux.go:380: starting container process caused: exec: "timeout": executable file not found in $PATH: unknown"#;
        assert!(missing_timeout_binary(Some(126), msg));
        assert!(!missing_timeout_binary(Some(1), msg));
        assert!(!missing_timeout_binary(
            Some(127),
            "bash: foo: command not found"
        ));
    }
}
