//! Property tests of the grader's parsers of outside input that have none elsewhere:
//! predictions files (JSON list, JSON dict, JSON Lines) and Terminal-Bench reward files. No
//! input makes them panic; every failure is a typed error that names the file. (Test logs
//! and patches have theirs beside the parsers.)

use agentscale_grader::GraderError;
use agentscale_grader::predictions::parse_predictions;
use agentscale_grader::tb::{parse_reward_json, parse_reward_txt};
use proptest::prelude::*;

/// A prediction-ish JSON fragment: sometimes whole, sometimes cut, sometimes mistyped.
fn prediction() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[a-z_]{1,8}-[0-9]{1,3}", "[ -~]{0,20}").prop_map(|(id, patch)| {
            serde_json::json!({"instance_id": id, "model_name_or_path": "m", "model_patch": patch})
                .to_string()
        }),
        ("[a-z_]{1,8}", 0usize..80).prop_map(|(id, cut)| {
            serde_json::json!({"instance_id": id, "model_patch": "p"})
                .to_string()
                .chars()
                .take(cut)
                .collect()
        }),
        Just(r#"{"instance_id": 3, "model_patch": null}"#.to_string()),
        Just(r#"{"model_patch": "x"}"#.to_string()),
        Just("null".to_string()),
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any text, in any of the three layouts: a list of predictions or a typed error naming
    /// the file.
    #[test]
    fn predictions_files_are_predictions_or_named_errors(
        items in proptest::collection::vec(prediction(), 0..6),
        layout in 0u8..4,
    ) {
        let text = match layout {
            0 => items.join("\n"),
            1 => format!("[{}]", items.join(",")),
            2 => format!(
                "{{{}}}",
                items.iter().enumerate().map(|(i, p)| format!("\"k{i}\": {p}")).collect::<Vec<_>>().join(",")
            ),
            _ => items.concat(),
        };
        match parse_predictions(&text, "preds.jsonl") {
            Ok(preds) => {
                for p in preds {
                    prop_assert!(!p.instance_id.is_empty());
                }
            }
            Err(GraderError::Predictions { path, message, .. }) => {
                prop_assert_eq!(path, "preds.jsonl");
                prop_assert!(!message.is_empty());
            }
            Err(other) => prop_assert!(false, "untyped failure: {other}"),
        }
    }

    /// Reward files: a finite number (or map of them) or a message.
    #[test]
    fn reward_files_are_numbers_or_messages(text in "(.|\n){0,60}", json in "[{}\":,0-9a-z. \\[\\]-]{0,40}") {
        match parse_reward_txt(&text) {
            Ok(r) => prop_assert!(r.is_finite(), "{r}"),
            Err(m) => prop_assert!(!m.is_empty()),
        }
        match parse_reward_json(&json) {
            Ok(m) => prop_assert!(m.values().all(|v| v.is_finite()), "{m:?}"),
            Err(m) => prop_assert!(!m.is_empty()),
        }
    }
}
