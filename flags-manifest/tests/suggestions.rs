//! The did-you-mean search: the bounded edit distance agrees with the plain one, and
//! its work over a large input is bounded (counted in steps, not timed).

use flags_manifest::{SUGGEST_MAX_WORD, did_you_mean};
use proptest::prelude::*;

/// The textbook edit distance over the whole table, to compare with.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// What `did_you_mean` answered before its search was bounded.
fn plain_did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

proptest! {
    #[test]
    fn the_bounded_search_answers_as_the_plain_one(
        word in "[abc_é]{0,14}",
        candidates in proptest::collection::vec("[abc_é]{0,14}", 0..6),
    ) {
        let c: Vec<&str> = candidates.iter().map(String::as_str).collect();
        prop_assert_eq!(did_you_mean(&word, c.iter().copied()), plain_did_you_mean(&word, &c));
    }
}

#[test]
fn near_misses_are_still_found() {
    let flags = [
        "search_v2",
        "checkout_layout",
        "kill_payments",
        "new_checkout",
    ];
    assert_eq!(did_you_mean("serch_v2", flags), Some("search_v2"));
    assert_eq!(
        did_you_mean("checkout_layuot", flags),
        Some("checkout_layout")
    );
    assert_eq!(did_you_mean("new_chekout", flags), Some("new_checkout"));
    assert_eq!(did_you_mean("payments", flags), None);
    let long = "x".repeat(SUGGEST_MAX_WORD + 1);
    assert_eq!(
        did_you_mean(&long, [long.as_str()]),
        None,
        "past the longest word"
    );
}

/// A rule file with 20,000 unknown names, many near a flag and some very long, against
/// a manifest of 300 flags: every name is reported, and the suggestion work stays
/// within the budget (the plain search would take about 20,000 × 300 full tables).
#[cfg(feature = "parse")]
#[test]
fn many_unknown_names_cost_at_most_the_budget() {
    use flags_manifest::{SUGGEST_BUDGET, Suggestions};

    let mut manifest = String::new();
    for i in 0..300 {
        manifest.push_str(&format!(
            "[flags.feature_number_{i:03}]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n"
        ));
    }
    let m = flags_manifest::parse_str(&manifest, "flags.toml")
        .unwrap_or_else(|e| panic!("the manifest parses: {e}"));
    let names: Vec<String> = (0..20_000)
        .map(|i| match i % 3 {
            0 => format!("feature_numbr_{:03}_{}", i % 300, i / 300),
            1 => format!("unrelated_{i}"),
            _ => format!("f{}_{i}", "e".repeat(200 + i % 50)),
        })
        .collect();

    let mut s = Suggestions::new(m.flags.iter().map(|f| f.name.as_str()), SUGGEST_BUDGET);
    let mut found = 0;
    for n in &names {
        found += usize::from(s.suggest(n).is_some());
    }
    eprintln!(
        "{found} suggestions for {} names in {} steps",
        names.len(),
        s.work()
    );
    assert!(
        found > 0,
        "near misses get suggestions until the budget is spent"
    );
    // The last call may overrun by at most one word's work.
    let one_word = 300 * (SUGGEST_MAX_WORD as u64 * 3 + 1);
    assert!(s.work() <= SUGGEST_BUDGET + one_word, "{} steps", s.work());

    let file: String = names
        .iter()
        .map(|n| format!("[flags.{n}]\nvalue = true\n"))
        .collect();
    let err = match flags_manifest::parse_rules_str(&file, "state.toml", &m) {
        Err(e) => e,
        Ok(_) => panic!("unknown names are refused"),
    };
    assert_eq!(err.diagnostics.len(), names.len(), "every name is reported");
    assert!(
        err.diagnostics[0].help.as_deref() == Some("did you mean `feature_number_000`?"),
        "{:?}",
        err.diagnostics[0]
    );
}
