//! Random Unleash payloads and contexts for the differential test: a seeded
//! generator, so a run is replayed exactly from its seed.

use flags_test_support::keys::SplitMix64;
use serde_json::{Map, Value, json};

/// The shared fixed-seed generator (SplitMix64, the same sequence on every platform),
/// with the draws this test needs.
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Context values of every shape the test must cover.
pub fn context_value(rng: &mut Rng) -> String {
    match rng.below(12) {
        0 => rng
            .pick(&[
                "0", "42", "3.5", "-7", "1e3", "100", "7.0", " 5", "inf", "NaN",
            ])
            .to_string(),
        1 => {
            let h = rng.next_u64();
            let l = rng.next_u64();
            format!(
                "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                h >> 32,
                (h >> 16) & 0xffff,
                h & 0xfff,
                l >> 52,
                l & 0xffff_ffff_ffff
            )
        }
        2 => rng
            .pick(&[
                "ann@example.com",
                "Ann@Example.COM",
                "bob@x.org",
                "carol+tag@example.com",
                "ANN@EXAMPLE.COM",
            ])
            .to_string(),
        3 => rng
            .pick(&[
                "Ärger",
                "ärger",
                "İstanbul",
                "istanbul",
                "straße",
                "STRASSE",
                "日本語",
                "😀",
                "ǅemal",
                "Ωmega",
                "ωmega",
                "ſ",
            ])
            .to_string(),
        4 => String::new(),
        5 => {
            let unit = rng.pick(&["ab", "a", "Ab", "é", "x:y"]).to_string();
            unit.repeat(1000 / unit.chars().count())
        }
        6 => rng
            .pick(&["a:b", "group:user", "::", ":", "x:"])
            .to_string(),
        7 => rng
            .pick(&[
                "10.1.2.3",
                "192.168.0.5",
                "::1",
                "2001:db8::1",
                "::ffff:10.0.0.1",
                "300.1.1.1",
            ])
            .to_string(),
        8 => rng
            .pick(&[
                "2025-06-01T12:00:00Z",
                "2024-01-01T00:00:00+02:00",
                "2030-12-31T23:59:59.123Z",
                "2025-06-01T12:00:00.5-05:30",
                "2000-01-01T00:00:00Z",
            ])
            .to_string(),
        9 => rng
            .pick(&[
                "1.2.3",
                "1.2.3-beta.1",
                "2.0.0",
                "1.2.3+build.5",
                "10.0.0-rc.1",
                "1.2.3-alpha",
                "0.0.1",
            ])
            .to_string(),
        10 => rng
            .pick(&["alice", "bob", "user-1", "user-2", "u", "beta", "a", "b"])
            .to_string(),
        _ => format!("user-{}", rng.below(10_000)),
    }
}

/// Custom property names (never the names of Unleash's built-in fields).
const PROPERTIES: &[&str] = &["tenant", "plan", "email", "version", "age"];
const BUILT_IN: &[&str] = &[
    "userId",
    "sessionId",
    "remoteAddress",
    "environment",
    "appName",
    "currentTime",
];

/// A random context as Unleash's JSON shape; fields are missing at random.
pub fn context(rng: &mut Rng) -> Value {
    let mut ctx = Map::new();
    for name in BUILT_IN {
        let present = match *name {
            "currentTime" => 15,
            "userId" => 85,
            "sessionId" => 55,
            _ => 45,
        };
        if rng.chance(present) {
            let v = match *name {
                "userId" if rng.chance(15) => String::new(),
                "currentTime" => rng
                    .pick(&[
                        "2025-06-01T12:00:00Z",
                        "2031-01-01T00:00:00Z",
                        "1999-01-01T00:00:00Z",
                    ])
                    .to_string(),
                "remoteAddress" if rng.chance(60) => rng
                    .pick(&["10.1.2.3", "192.168.1.1", "::1", "2001:db8::7", "8.8.8.8"])
                    .to_string(),
                _ => context_value(rng),
            };
            ctx.insert((*name).to_owned(), Value::String(v));
        }
    }
    let mut props = Map::new();
    for name in PROPERTIES {
        if rng.chance(50) {
            props.insert((*name).to_owned(), Value::String(context_value(rng)));
        }
    }
    if !props.is_empty() {
        ctx.insert("properties".to_owned(), Value::Object(props));
    }
    Value::Object(ctx)
}

const OPERATORS: &[&str] = &[
    "IN",
    "NOT_IN",
    "STR_CONTAINS",
    "STR_STARTS_WITH",
    "STR_ENDS_WITH",
    "NUM_EQ",
    "NUM_GT",
    "NUM_GTE",
    "NUM_LT",
    "NUM_LTE",
    "DATE_AFTER",
    "DATE_BEFORE",
    "SEMVER_EQ",
    "SEMVER_GT",
    "SEMVER_GTE",
    "SEMVER_LT",
    "SEMVER_LTE",
    "REGEX",
    "IN_CIDR",
];

/// Regex operands, all of which Yggdrasil's grammar carries through unchanged.
const PATTERNS: &[&str] = &[
    r"^[a-z]+@example\.com$",
    r"\p{L}+",
    r"^\p{Lu}",
    r"\p{Greek}",
    r"^\d+$",
    r"\d",
    ":",
    "^$",
    "(?i)ann",
    "[a-z]{0,50}b",
    "^(ab)+$",
    "é|ß",
    ".*",
    "user-[0-9]{1,3}$",
    "(",
    "[",
    r"\bbob\b",
    "^.{1000}$",
    "(a|ab)(c|bcd)(d*)",
];

fn operand(rng: &mut Rng) -> String {
    // Mostly values a context can hold, sometimes a fragment of one (so that the
    // `STR_*` operators match), in another case.
    let v = context_value(rng);
    let v = if rng.chance(40) && v.chars().count() > 2 {
        let chars: Vec<char> = v.chars().collect();
        let a = rng.below(chars.len());
        let b = a + 1 + rng.below(chars.len() - a);
        chars[a..b].iter().collect()
    } else {
        v
    };
    match rng.below(4) {
        0 => v.to_uppercase(),
        1 => v.to_lowercase(),
        _ => v,
    }
}

pub fn constraint(rng: &mut Rng) -> Value {
    let operator = *rng.pick(OPERATORS);
    let context_name = if rng.chance(50) {
        *rng.pick(BUILT_IN)
    } else {
        *rng.pick(PROPERTIES)
    };
    let mut c = json!({
        "contextName": context_name,
        "operator": operator,
    });
    if rng.chance(30) {
        c["inverted"] = json!(true);
    }
    if rng.chance(35) {
        c["caseInsensitive"] = json!(true);
    }
    match operator {
        "IN" | "NOT_IN" | "STR_CONTAINS" | "STR_STARTS_WITH" | "STR_ENDS_WITH" => {
            let min = usize::from(operator.starts_with("STR"));
            let n = min + rng.below(3);
            let values: Vec<String> = (0..n).map(|_| operand(rng)).collect();
            c["values"] = json!(values);
        }
        "NUM_EQ" | "NUM_GT" | "NUM_GTE" | "NUM_LT" | "NUM_LTE" => {
            c["value"] = json!(*rng.pick(&["0", "42", "3.5", "-7", "1e3", "100", "7", "5.0"]));
        }
        "DATE_AFTER" | "DATE_BEFORE" => {
            c["value"] = json!(*rng.pick(&[
                "2025-06-01T12:00:00Z",
                "2024-12-31T23:00:00+02:00",
                "2030-01-01T00:00:00.000Z",
                "2000-01-01T00:00:00Z",
            ]));
        }
        "REGEX" => {
            c["value"] = json!(*rng.pick(PATTERNS));
        }
        "IN_CIDR" => {
            let all = [
                "10.0.0.0/8",
                "192.168.0.0/16",
                "::1/128",
                "2001:db8::/32",
                "10.1.2.3",
                "junk",
                "0.0.0.0/0",
            ];
            let values: Vec<&str> = (0..1 + rng.below(3)).map(|_| *rng.pick(&all)).collect();
            c["values"] = json!(values);
        }
        _ => {
            c["value"] = json!(*rng.pick(&[
                "1.2.3",
                "1.2.3-beta.1",
                "2.0.0",
                "1.2.3-alpha",
                "0.0.1",
                "10.0.0-rc.1",
            ]));
        }
    }
    c
}

fn variant_payload(rng: &mut Rng) -> Option<Value> {
    match rng.below(5) {
        0 => Some(json!({"type": "string", "value": context_value(rng)})),
        1 => Some(json!({"type": "json", "value": "{\"a\":1}"})),
        2 => Some(json!({"type": "number", "value": "42"})),
        _ => None,
    }
}

const VARIANT_NAMES: &[&str] = &["red", "green", "blue", "Gelb", "disabled-not"];

/// Variants with positive total weight (Yggdrasil divides by the total).
fn variants(rng: &mut Rng, feature_level: bool, stickiness: bool) -> Vec<Value> {
    let n = 1 + rng.below(3);
    let mut out = Vec::new();
    for (i, name) in VARIANT_NAMES.iter().take(n).enumerate() {
        let mut v = json!({
            "name": name,
            "weight": if i == 0 { 1 + rng.below(1000) } else { rng.below(1000) },
            "weightType": "variable",
        });
        if let Some(p) = variant_payload(rng) {
            v["payload"] = p;
        }
        if stickiness && i == 0 && rng.chance(60) {
            v["stickiness"] =
                json!(*rng.pick(&["default", "userId", "sessionId", "tenant", "random",]));
        }
        if feature_level && rng.chance(25) {
            let name = *rng.pick(&["userId", "tenant", "sessionId", "appName"]);
            let values: Vec<String> = (0..1 + rng.below(3)).map(|_| context_value(rng)).collect();
            v["overrides"] = json!([{"contextName": name, "values": values}]);
        }
        out.push(v);
    }
    out
}

fn percent(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => "0".to_owned(),
        1 => "100".to_owned(),
        _ => rng.below(101).to_string(),
    }
}

fn group_id(rng: &mut Rng, params: &mut Map<String, Value>, feature: &str) {
    match rng.below(5) {
        0 => {}
        1 => {
            params.insert("groupId".to_owned(), json!(""));
        }
        2 => {
            params.insert("groupId".to_owned(), json!(feature));
        }
        _ => {
            params.insert(
                "groupId".to_owned(),
                json!(*rng.pick(&["g1", "shared", "a:b"])),
            );
        }
    }
}

/// One strategy; `random` allows the non-sticky ones.
fn strategy(rng: &mut Rng, feature: &str, segments: &[u64], host: &str) -> Value {
    let mut params = Map::new();
    let name = match rng.below(9) {
        0 => "default",
        1 => {
            let ids: Vec<String> = (0..1 + rng.below(4))
                .map(|_| {
                    if rng.chance(10) {
                        String::new()
                    } else {
                        format!(" {} ", context_value(rng))
                    }
                })
                .filter(|id| !id.contains(','))
                .collect();
            params.insert("userIds".to_owned(), json!(ids.join(",")));
            "userWithId"
        }
        2 => {
            params.insert("percentage".to_owned(), json!(percent(rng)));
            group_id(rng, &mut params, feature);
            "gradualRolloutUserId"
        }
        3 => {
            params.insert("percentage".to_owned(), json!(percent(rng)));
            group_id(rng, &mut params, feature);
            "gradualRolloutSessionId"
        }
        4 => {
            params.insert("percentage".to_owned(), json!(percent(rng)));
            "gradualRolloutRandom"
        }
        5 => {
            let ips: Vec<&str> = (0..1 + rng.below(3))
                .map(|_| {
                    *rng.pick(&[
                        "10.0.0.0/8",
                        "192.168.1.1",
                        "::1",
                        "2001:db8::/48",
                        "junk",
                        "8.8.8.8",
                    ])
                })
                .collect();
            params.insert("IPs".to_owned(), json!(ips.join(", ")));
            "remoteAddress"
        }
        6 => {
            let names: Vec<String> = (0..1 + rng.below(2))
                .map(|_| {
                    if rng.chance(50) {
                        host.to_uppercase()
                    } else {
                        (*rng.pick(&["elsewhere", "db-1"])).to_owned()
                    }
                })
                .collect();
            params.insert("hostNames".to_owned(), json!(names.join(",")));
            "applicationHostname"
        }
        _ => {
            params.insert("rollout".to_owned(), json!(percent(rng)));
            if rng.chance(80) {
                params.insert(
                    "stickiness".to_owned(),
                    json!(*rng.pick(&[
                        "default",
                        "userId",
                        "sessionId",
                        "random",
                        "tenant",
                        "environment",
                        "appName",
                        "remoteAddress",
                    ])),
                );
            }
            group_id(rng, &mut params, feature);
            "flexibleRollout"
        }
    };
    let mut s = json!({"name": name, "parameters": params});
    if rng.chance(50) {
        let n = 1 + rng.below(3);
        s["constraints"] = json!((0..n).map(|_| constraint(rng)).collect::<Vec<_>>());
    }
    if !segments.is_empty() && rng.chance(25) {
        s["segments"] = json!([*rng.pick(segments)]);
    }
    if rng.chance(30) {
        s["variants"] = json!(variants(rng, false, false));
    }
    s
}

/// A random payload of a few toggles, some depending on earlier ones.
pub fn payload(rng: &mut Rng, host: &str) -> Value {
    let segments: Vec<Value> = (0..rng.below(3))
        .map(|i| {
            let n = 1 + rng.below(2);
            json!({"id": i + 1, "constraints": (0..n).map(|_| constraint(rng)).collect::<Vec<_>>()})
        })
        .collect();
    let segment_ids: Vec<u64> = (1..=segments.len() as u64).collect();
    let n = 1 + rng.below(4);
    let mut features: Vec<Value> = Vec::new();
    for i in 0..n {
        let name = if rng.chance(10) {
            format!("tögl-{i}")
        } else {
            format!("t{i}")
        };
        let mut f = json!({"name": name, "enabled": rng.chance(92)});
        let ns = match rng.below(6) {
            0 => 0,
            1 | 2 => 1,
            3 | 4 => 2,
            _ => 3,
        };
        f["strategies"] = json!(
            (0..ns)
                .map(|_| strategy(rng, &name, &segment_ids, host))
                .collect::<Vec<_>>()
        );
        if rng.chance(45) {
            f["variants"] = json!(variants(rng, true, true));
        }
        if i > 0 && rng.chance(35) {
            let parent = features[rng.below(features.len())]["name"].clone();
            let mut d = json!({"feature": parent});
            match rng.below(4) {
                0 => d["enabled"] = json!(false),
                1 => d["enabled"] = json!(true),
                _ => {}
            }
            if rng.chance(35) {
                let names: Vec<&str> = (0..1 + rng.below(2))
                    .map(|_| *rng.pick(VARIANT_NAMES))
                    .collect();
                d["variants"] = json!(names);
            }
            f["dependencies"] = json!([d]);
        }
        features.push(f);
    }
    json!({"version": 2, "features": features, "segments": segments})
}
