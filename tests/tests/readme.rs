//! The README's manifest example is a valid manifest, and its quick start names
//! commands that exist.

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

fn block(readme: &str, lang: &str) -> String {
    let start = readme.find(&format!("```{lang}\n")).unwrap() + lang.len() + 4;
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_owned()
}

#[test]
fn the_manifest_example_parses() {
    let readme = readme();
    let toml = block(&readme[readme.find("## The manifest").unwrap()..], "toml");
    let m = flags_manifest::parse_str(&toml, "README.md").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        m.flag("search_v2")
            .is_some_and(|f| !f.rules.strategies.is_empty())
    );
    assert!(m.flag("new_checkout").is_some_and(|f| f.rollout.is_some()));
}

#[test]
fn the_quick_start_has_two_commands_that_exist() {
    let quick = block(&readme(), "sh");
    let commands: Vec<&str> = quick.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(commands.len(), 2, "{quick}");
    assert!(commands[0].starts_with("cargo run -p rollout-demo"));
    assert!(commands[1].starts_with("scripts/test.sh"));
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    assert!(
        std::path::Path::new(root)
            .join("examples/rollout-demo/Cargo.toml")
            .is_file()
    );
    assert!(std::path::Path::new(root).join("scripts/test.sh").is_file());
    let ci = std::fs::read_to_string(format!("{root}/.ci/run")).unwrap();
    assert!(
        ci.contains("scripts/test.sh"),
        ".ci/run calls the README's test command"
    );
}
