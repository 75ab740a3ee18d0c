//! Property tests of the summary parser (a summarizer's reply is outside input): any reply,
//! including a valid summary cut, wrapped or mangled anywhere, is a summary or a list of
//! messages for the retry — never a panic. (Verdicts have theirs beside their parser.)

use agentscale_core::Benchmark;
use agentscale_scaling::summary::parse::{Limits, extract_json, parse_summary};
use proptest::prelude::*;

use crate::common::summary_json;

fn limits(benchmark: Benchmark) -> Limits {
    Limits {
        benchmark,
        max_step: Some(20),
        max_chars: 20_000,
    }
}

fn check(reply: &str) -> Result<(), TestCaseError> {
    for b in [Benchmark::SweBench, Benchmark::TerminalBench] {
        match parse_summary(reply, &limits(b)) {
            Ok(_) => prop_assert!(extract_json(reply).is_ok()),
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                prop_assert!(errors.iter().all(|e| !e.is_empty()));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_replies_never_panic(reply in "(.|\n){0,200}") {
        check(&reply)?;
    }

    #[test]
    fn mangled_summaries_are_summaries_or_messages(
        cut in 0usize..2000,
        at in 0usize..2000,
        insert in "[{}\\[\\]\",:0-9a-z` \n]{0,6}",
        fence in any::<bool>(),
    ) {
        let mut s: String = summary_json(Benchmark::SweBench).chars().take(cut.max(1)).collect();
        let at = s.char_indices().map(|(i, _)| i).nth(at).unwrap_or(s.len());
        s.insert_str(at, &insert);
        let reply = if fence { format!("Here:\n```json\n{s}\n```\n") } else { s };
        check(&reply)?;
    }
}

#[test]
fn the_valid_summary_parses() {
    let s = summary_json(Benchmark::SweBench);
    assert!(parse_summary(&s, &limits(Benchmark::SweBench)).is_ok());
}
