//! Expansion of a 1,000-flag manifest, from manifest text to the generated tokens: what
//! one `flags!` call costs a build. Goal: under 100 ms.

use divan::Bencher;
use flags_codegen::{Env, FlagsInput, ManifestFile, expand_manifest};

fn main() {
    divan::main();
}

/// A manifest of `n` flags mixing every shape: on/off, variants, static, expiring,
/// with requires and rules.
fn manifest(n: usize) -> String {
    let mut s = String::from("[settings]\nwarn_ahead_days = 30\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "[flags.flag_{i:04}]\ndescription = \"Flag number {i}, generated for the benchmark\"\nowner = \"team-{}\"\n",
            i % 17
        ));
        match i % 4 {
            0 => s.push_str("kind = \"release\"\nexpires = 2027-06-30\n"),
            1 => s.push_str(
                "kind = \"experiment\"\nexpires = 2027-03-31\nvariants = [\"control\", \"treatment-a\", \"treatment-b\"]\ndefault = \"control\"\n",
            ),
            2 => s.push_str("kind = \"ops\"\nstatic = true\ndefault = true\n"),
            _ => s.push_str(&format!(
                "kind = \"permission\"\nrequires = [\"flag_{:04}\"]\n[[flags.flag_{i:04}.strategies]]\ntype = \"rollout\"\npercent = 25\n",
                i - 3
            )),
        }
        s.push('\n');
    }
    s
}

#[divan::bench(args = [100, 1000])]
fn expand(bencher: Bencher, n: usize) {
    let input: FlagsInput = syn::parse_str(r#""flags.toml""#).expect("valid input");
    let file = ManifestFile::new("flags.toml", "/bench/flags.toml", manifest(n));
    let env = Env::new().with_var("FLAGS_TODAY", "2027-01-01");
    // The manifest is valid: the expansion is a module, not errors.
    let out = expand_manifest(&input, &file, &env).to_string();
    assert!(out.starts_with("# [doc"), "{}", &out[..200.min(out.len())]);
    bencher.bench_local(|| expand_manifest(&input, &file, &env));
}

/// The share of [`expand`] spent parsing and checking the manifest.
#[divan::bench(args = [1000])]
fn parse_only(bencher: Bencher, n: usize) {
    let text = manifest(n);
    bencher.bench_local(|| flags_manifest::parse_str(&text, "flags.toml"));
}
