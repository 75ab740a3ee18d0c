//! Property tests of the tmux agent's reply parser (model output is outside input): any
//! reply is a keystroke batch or a message saying what was wrong — never a panic. (The bash
//! agent's parsers have theirs beside them.)

use agentscale_agents::tmux::reply::parse_reply;
use proptest::prelude::*;

/// Pieces of a Terminus reply: its keys, values of every type, JSON punctuation, fences.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just("```json\n".to_string()),
        Just("\n```".to_string()),
        Just("\"state_analysis\": \"s\"".to_string()),
        Just("\"explanation\": \"e\"".to_string()),
        Just("\"is_task_complete\": false".to_string()),
        Just("\"commands\": ".to_string()),
        Just("{\"keystrokes\": \"ls\\n\", \"is_blocking\": true, \"timeout_sec\": 1}".to_string()),
        "\"[a-z_]{1,12}\": (true|1|-3|1e999|null|\"[ -~]{0,6}\")",
        "[ -~]{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn replies_are_batches_or_messages(parts in proptest::collection::vec(piece(), 0..14)) {
        match parse_reply(&parts.concat()) {
            Ok(batch) => {
                for c in &batch.commands {
                    prop_assert!(c.timeout_sec.is_finite() && c.timeout_sec >= 0.0, "{c:?}");
                }
            }
            Err(m) => prop_assert!(!m.is_empty()),
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(.|\n){0,200}") {
        if let Err(m) = parse_reply(&text) {
            prop_assert!(!m.is_empty());
        }
    }
}

#[test]
fn a_complete_reply_parses() {
    let reply = r#"{"state_analysis": "s", "explanation": "e", "commands": [{"keystrokes": "ls\n", "is_blocking": true, "timeout_sec": 1}], "is_task_complete": false}"#;
    let b = parse_reply(reply).unwrap();
    assert_eq!(b.commands.len(), 1);
}
