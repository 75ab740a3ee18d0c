//! The verdict parser: one verdict `Final verdict: Solution N`, in the forms models write it.
//!
//! A line is a verdict line when, once surrounding whitespace and markdown decoration
//! (`*`, `_`, `#`, `>`, backticks) are stripped, it begins with "final verdict" in any case.
//! Its rest must be, decoration aside, an optional `:` or `-`, the word "Solution" (any case),
//! a number N, and at most a closing `.` or `!`: so `**Final verdict: Solution 1**`,
//! `## Final Verdict: solution 2.` and `Final verdict: **Solution 1**` are all accepted. A
//! verdict line with nothing after "Final verdict" (optionally a colon) is a heading: the
//! next non-blank line is then read as `Solution N` with the same tolerance.
//!
//! A reply is valid when it has exactly one verdict and N is between 1 and the number of
//! solutions shown. No verdict, several verdicts (even naming the same solution), anything
//! else on the line (`not Solution 1`, `Solution 1 or 2`, `Solution 1 (the first)`), or an N
//! out of range make the reply invalid; the parser never guesses and never defaults to a
//! candidate.

/// Markdown decoration stripped around a verdict and its parts.
const DECORATION: &str = "*_#>`";

fn strip_decoration(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || DECORATION.contains(c))
}

/// What one line of a reply says about the verdict.
enum Line<'a> {
    /// Not about the verdict.
    Other,
    /// `Final verdict` alone (a heading): the verdict follows on the next non-blank line.
    Heading,
    /// A verdict line; the text after "Final verdict".
    Verdict(&'a str),
}

fn classify(line: &str) -> Line<'_> {
    let core = strip_decoration(line);
    let prefix = "final verdict";
    if core.len() < prefix.len()
        || !core.is_char_boundary(prefix.len())
        || !core[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        return Line::Other;
    }
    let rest = &core[prefix.len()..];
    if strip_decoration(rest)
        .trim_end_matches(':')
        .trim()
        .is_empty()
    {
        Line::Heading
    } else {
        Line::Verdict(rest)
    }
}

/// The N of `[:|-] Solution N[.|!]` (decoration anywhere around the parts), or why not.
fn solution_number(rest: &str) -> Result<&str, ()> {
    let s = strip_decoration(rest);
    let s = s
        .strip_prefix(':')
        .or_else(|| s.strip_prefix('-'))
        .unwrap_or(s);
    let s = strip_decoration(s);
    let word = "solution";
    if s.len() < word.len() || !s.is_char_boundary(word.len()) {
        return Err(());
    }
    if !s[..word.len()].eq_ignore_ascii_case(word) {
        return Err(());
    }
    let after = &s[word.len()..];
    if !after.starts_with(char::is_whitespace) {
        return Err(());
    }
    let after = strip_decoration(after);
    let digits_end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    let (digits, tail) = after.split_at(digits_end);
    let tail_ok = strip_decoration(tail)
        .trim_end_matches(['.', '!'])
        .trim_matches(|c: char| c.is_whitespace() || DECORATION.contains(c))
        .is_empty();
    if digits.is_empty() || !tail_ok {
        return Err(());
    }
    Ok(digits)
}

/// Parse a judge reply shown `n` solutions: the 1-based solution number, or why the reply
/// has no valid verdict (the message is sent back to the judge when it is re-asked).
pub fn parse_verdict(reply: &str, n: usize) -> Result<u32, String> {
    let lines: Vec<&str> = reply.lines().map(str::trim).collect();
    // (the line shown in errors, the text holding "Solution N")
    let mut verdicts: Vec<(&str, Option<&str>)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match classify(line) {
            Line::Other => {}
            Line::Verdict(rest) => verdicts.push((line, solution_number(rest).ok())),
            Line::Heading => {
                let next = lines[i + 1..]
                    .iter()
                    .find(|l| !strip_decoration(l).is_empty());
                if let Some(next) = next
                    && matches!(classify(next), Line::Other)
                {
                    let number = solution_number(next).ok();
                    if number.is_some() {
                        verdicts.push((next, number));
                    }
                }
            }
        }
    }
    let (line, number) = match verdicts.as_slice() {
        [] => {
            return Err(format!(
                "the reply has no line `Final verdict: Solution N` (N from 1 to {n})"
            ));
        }
        [one] => *one,
        many => {
            return Err(format!(
                "the reply has {} verdict lines (\"Final verdict ...\"); exactly one is allowed",
                many.len()
            ));
        }
    };
    let Some(number) = number else {
        return Err(format!(
            "the verdict line {:?} is not of the form `Final verdict: Solution N` (nothing else \
             on the line)",
            clip_line(line)
        ));
    };
    match number.parse::<u32>() {
        Ok(k) if k >= 1 && (k as usize) <= n => Ok(k),
        _ => Err(format!(
            "the verdict names Solution {}, but only Solutions 1 to {n} were shown",
            clip_line(number)
        )),
    }
}

fn clip_line(s: &str) -> String {
    if s.chars().count() <= 120 {
        s.to_string()
    } else {
        let head: String = s.chars().take(117).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::parse_verdict;

    #[test]
    fn accepts_exactly_one_exact_line() {
        assert_eq!(
            parse_verdict("Reasoning...\nFinal verdict: Solution 2", 2),
            Ok(2)
        );
        assert_eq!(
            parse_verdict("x\n  Final verdict: Solution 1  \n", 2),
            Ok(1)
        );
        assert_eq!(parse_verdict("Final verdict: Solution 16\n", 16), Ok(16));
        // Prose mentioning verdicts elsewhere is fine as long as no line starts with it.
        assert_eq!(
            parse_verdict("My final answer follows.\nFinal verdict: Solution 1", 2),
            Ok(1)
        );
    }

    #[test]
    fn accepts_the_common_decorated_forms() {
        let cases: &[(&str, u32)] = &[
            ("**Final verdict: Solution 1**", 1),
            ("Reasons.\n**Final verdict: Solution 2**\n", 2),
            ("Final verdict: Solution 1.", 1),
            ("**Final verdict: Solution 2.**", 2),
            ("Final Verdict: solution 1", 1),
            ("FINAL VERDICT: SOLUTION 2!", 2),
            ("Final verdict: **Solution 1**", 1),
            ("## Final verdict: Solution 2", 2),
            ("> Final verdict: `Solution 1`", 1),
            ("Final verdict - Solution 2", 2),
            ("Final verdict:Solution 1", 1),
            // a heading above the verdict line
            ("## Final verdict\nFinal verdict: Solution 1", 1),
            ("## Final Verdict\n\n**Solution 2**", 2),
            ("### Final verdict:\nSolution 1.", 1),
            ("**Final verdict**\n\nFinal verdict: Solution 2\n", 2),
        ];
        for (reply, want) in cases {
            assert_eq!(parse_verdict(reply, 2), Ok(*want), "{reply:?}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        let cases: &[(&str, &str)] = &[
            ("", "no line"),
            ("Solution 1 is better.", "no line"),
            (
                "Final verdict: Solution 1\nFinal verdict: Solution 2",
                "2 verdict lines",
            ),
            (
                "Final verdict: Solution 1\nFinal verdict: Solution 1",
                "2 verdict lines",
            ),
            (
                "**Final verdict: Solution 1**\n## Final verdict\nSolution 2",
                "2 verdict lines",
            ),
            ("Final verdict: not Solution 1", "not of the form"),
            ("Final verdict: Solution 1 or Solution 2", "not of the form"),
            ("Final verdict: Solution 1 or 2", "not of the form"),
            ("Final verdict: Solution 1 (the first)", "not of the form"),
            ("Final verdict: Solution 1, then 2", "not of the form"),
            ("Final verdict: Solutions 1", "not of the form"),
            ("Final verdict: Solution1", "not of the form"),
            ("Final verdict: Solution", "not of the form"),
            ("Final verdict: Solution -1", "not of the form"),
            ("Final verdict: Solution 1.5", "not of the form"),
            ("Final verdict: the first one", "not of the form"),
            ("Final verdicts: Solution 1", "not of the form"),
            ("Final verdict: Solution 3", "only Solutions 1 to 2"),
            ("**Final verdict: Solution 3.**", "only Solutions 1 to 2"),
            ("Final verdict: Solution 0", "only Solutions 1 to 2"),
            (
                "Final verdict: Solution 99999999999999999999",
                "only Solutions 1 to 2",
            ),
            // a heading followed by prose is no verdict: the parser never guesses
            ("## Final verdict\nI prefer Solution 1.", "no line"),
            ("## Final verdict\n", "no line"),
        ];
        for (reply, want) in cases {
            let e = parse_verdict(reply, 2).unwrap_err();
            assert!(e.contains(want), "{reply:?}: {e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_valid_means_in_range(reply in ".{0,300}", n in 1usize..20) {
            if let Ok(k) = parse_verdict(&reply, n) {
                prop_assert!(k >= 1 && (k as usize) <= n);
            }
        }

        #[test]
        fn any_in_range_verdict_after_prose_is_found(prose in "[a-z .,\n]{0,200}", n in 1usize..20, k in 1usize..20) {
            prop_assume!(k <= n);
            let reply = format!("{prose}\nFinal verdict: Solution {k}\n");
            prop_assert_eq!(parse_verdict(&reply, n), Ok(k as u32));
        }

        #[test]
        fn decoration_never_changes_the_verdict(
            pre in "[*_#> ]{0,4}", post in "[*_ ]{0,3}", dot in prop::bool::ANY,
            n in 1usize..20, k in 1usize..20,
        ) {
            prop_assume!(k <= n);
            let reply = format!(
                "Compare.\n{pre}Final verdict: Solution {k}{}{post}\n",
                if dot { "." } else { "" }
            );
            prop_assert_eq!(parse_verdict(&reply, n), Ok(k as u32));
        }

        #[test]
        fn two_different_verdicts_are_never_valid(a in 1usize..9, b in 1usize..9, deco in "[*#]{0,2}") {
            prop_assume!(a != b);
            let reply = format!("{deco}Final verdict: Solution {a}{deco}\nFinal verdict: Solution {b}\n");
            prop_assert!(parse_verdict(&reply, 9).is_err());
        }
    }
}
