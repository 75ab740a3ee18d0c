//! Tests of the agent configuration.

use super::*;

fn parse(toml_text: &str) -> Result<AgentConfig, String> {
    // The config is a plain serde type; JSON exercises the same derive as TOML.
    serde_json::from_str(toml_text).map_err(|e| e.to_string())
}

#[test]
fn defaults_follow_the_kind() {
    let b = AgentConfig::new(AgentKind::Bash).limits();
    assert_eq!(b.step_limit, 250);
    assert!((b.cost_limit_usd - 3.0).abs() < f64::EPSILON);
    assert!((b.command_timeout_sec - 60.0).abs() < f64::EPSILON);
    assert_eq!(b.max_format_errors, 3);
    let t = AgentConfig::new(AgentKind::Tmux);
    assert_eq!(t.limits().step_limit, 50);
    assert_eq!(t.settings().sampling.temperature, Some(0.7));
    assert_eq!(
        AgentConfig::new(AgentKind::Bash)
            .settings()
            .sampling
            .temperature,
        None
    );
    assert_eq!(
        AgentConfig::new(AgentKind::Bash)
            .settings()
            .env
            .get("PAGER")
            .map(String::as_str),
        Some("cat")
    );
    assert!(t.settings().env.is_empty());
}

#[test]
fn the_reference_profile_takes_mini_swe_agents_values() {
    let c = parse(r#"{"kind":"bash","profile":"reference"}"#).unwrap();
    let s = c.validate().unwrap();
    assert_eq!(s.shell, ShellMode::Login);
    assert!(
        !s.fallback_git_diff,
        "an empty patch when nothing was submitted"
    );
    assert_eq!(s.action_fence, "bash");
    assert_eq!(s.sampling.temperature, Some(0.0));
    assert_eq!(
        s.limits.max_format_errors, 251,
        "only the step limit ends them"
    );
    assert_eq!(s.limits.step_limit, 250);
    assert!((s.limits.cost_limit_usd - 3.0).abs() < f64::EPSILON);
    assert!((s.limits.command_timeout_sec - 60.0).abs() < f64::EPSILON);
    assert_eq!(s.observation_max_chars, 10_000);
    assert_eq!(s.env, mini_env());
    let r = c.resolved();
    assert_eq!(r.profile, Some(AgentProfile::Reference));
    assert_eq!(r.shell, Some(ShellMode::Login));
    let back: AgentConfig = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back.resolved(), r);
    // every knob can still be set against the profile
    let c = parse(
        r#"{"kind":"bash","profile":"reference","shell":"bash-env","fallback_git_diff":true,
            "step_limit":0,"temperature":0.5}"#,
    )
    .unwrap();
    let s = c.validate().unwrap();
    assert_eq!(s.shell, ShellMode::BashEnv);
    assert!(s.fallback_git_diff);
    assert_eq!(
        s.limits.max_format_errors,
        REFERENCE_UNLIMITED_FORMAT_ERRORS
    );
    assert_eq!(s.sampling.temperature, Some(0.5));
    // the default profile keeps agentscale's choices
    let s = AgentConfig::new(AgentKind::Bash).settings();
    assert_eq!(
        (
            s.profile,
            s.shell,
            s.fallback_git_diff,
            s.action_fence.as_str()
        ),
        (
            AgentProfile::Agentscale,
            ShellMode::Plain,
            true,
            "bash-action"
        )
    );
    let e = parse(r#"{"kind":"tmux","profile":"reference"}"#)
        .unwrap()
        .validate()
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("agent.profile"), "{e}");
}

#[test]
fn unknown_keys_are_errors() {
    let e = parse(r#"{"kind":"bash","step_limt":3}"#).unwrap_err();
    assert!(e.contains("step_limt"), "{e}");
    let e = parse(r#"{"kind":"bash","templates":{"sytem":"a"}}"#).unwrap_err();
    assert!(e.contains("sytem"), "{e}");
    let e = parse(r#"{"kind":"shell"}"#).unwrap_err();
    assert!(e.contains("shell"), "{e}");
}

#[test]
fn resolved_round_trips_and_is_stable() {
    let c = parse(r#"{"kind":"tmux","step_limit":7}"#).unwrap();
    let r = c.resolved();
    assert_eq!(r.step_limit, Some(7));
    assert_eq!(r.temperature, Some(0.7));
    let back: AgentConfig = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.resolved(), r);
}

#[test]
fn invalid_values_name_their_key() {
    let cases = [
        (r#"{"kind":"bash","cost_limit":-1}"#, "agent.cost_limit"),
        (
            r#"{"kind":"bash","command_timeout_sec":0}"#,
            "agent.command_timeout_sec",
        ),
        (
            r#"{"kind":"bash","max_format_errors":0}"#,
            "agent.max_format_errors",
        ),
        (r#"{"kind":"bash","temperature":3}"#, "agent.temperature"),
        (
            r#"{"kind":"bash","action_fence":"a b"}"#,
            "agent.action_fence",
        ),
        (r#"{"kind":"bash","cwd":"rel"}"#, "agent.cwd"),
        (
            r#"{"kind":"bash","env":{"OPENAI_API_KEY":"x"}}"#,
            "agent.env.OPENAI_API_KEY",
        ),
        (r#"{"kind":"bash","env":{"1X":"x"}}"#, "agent.env.1X"),
        (r#"{"kind":"bash","tmux":{}}"#, "agent.tmux"),
        (r#"{"kind":"tmux","tmux":{"width":3}}"#, "agent.tmux"),
        (
            r#"{"kind":"oracle","templates":{"system":"x"}}"#,
            "agent.templates",
        ),
    ];
    for (json, key) in cases {
        let e = parse(json).unwrap().validate().unwrap_err().to_string();
        assert!(e.starts_with(key), "{json}: {e}");
    }
    assert!(parse(r#"{"kind":"oracle"}"#).unwrap().validate().is_ok());
}

#[test]
fn missing_template_file_is_a_clear_error() {
    let c = parse(r#"{"kind":"bash","templates":{"instance":"nope/missing.j2"}}"#).unwrap();
    let e = c
        .build(Some(Path::new("/nonexistent-dir")))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("agent.templates.instance"), "{e}");
    assert!(e.contains("/nonexistent-dir/nope/missing.j2"), "{e}");
}

#[test]
fn template_with_unknown_variable_is_rejected_at_build() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("i.j2"), "Task: {{ taks }}\n").unwrap();
    let c = parse(r#"{"kind":"bash","templates":{"instance":"i.j2"}}"#).unwrap();
    let e = c.build(Some(dir.path())).err().unwrap().to_string();
    assert!(e.contains("agent.templates.instance"), "{e}");
    assert!(e.contains("taks"), "{e}");
    std::fs::write(dir.path().join("i.j2"), "Task: {{ task }}\n").unwrap();
    assert!(c.build(Some(dir.path())).is_ok());
}
