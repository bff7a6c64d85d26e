//! Realistic, varied targeting keys for benchmarks, the same on every run and
//! machine: version-4 UUIDs (36 bytes) and e-mail addresses of varied shapes and
//! lengths, from a fixed-seed generator. A benchmark fed one short constant key
//! measures a hash nobody runs in production.

/// A small, fixed-seed generator (SplitMix64): the same keys on every run and
/// machine, with no dependency.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        // The bias of `%` on a 64-bit draw is irrelevant for picking words.
        (self.next_u64() % n as u64) as usize
    }

    /// One of `words`.
    pub fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }
}

/// A random (version 4) UUID in its 36-character text form.
pub fn uuid(rng: &mut SplitMix64) -> String {
    let hi = rng.next_u64();
    let lo = rng.next_u64();
    // Version 4 in the 13th hex digit, variant 10xx in the 17th.
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & !(0xc << 60)) | (0x8 << 60);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// An e-mail address shaped like real ones: names of varied lengths, separators,
/// digits, plus-tags, short and long domains.
pub fn email(rng: &mut SplitMix64) -> String {
    const FIRST: &[&str] = &[
        "al",
        "bo",
        "eve",
        "li",
        "jan",
        "mia",
        "noah",
        "emma",
        "lucas",
        "sofia",
        "olivia",
        "mateo",
        "fatima",
        "hiroshi",
        "isabella",
        "guillaume",
        "alexander",
        "maximilian",
        "anastasia",
        "christopher",
    ];
    const LAST: &[&str] = &[
        "ng",
        "wu",
        "kim",
        "diaz",
        "khan",
        "smith",
        "muller",
        "garcia",
        "novak",
        "rossi",
        "johnson",
        "kowalski",
        "nakamura",
        "fernandez",
        "oconnor",
        "papadopoulos",
        "van-der-berg",
        "schwarzenegger",
    ];
    const DOMAINS: &[&str] = &[
        "x.io",
        "gmx.de",
        "web.de",
        "gmail.com",
        "yahoo.fr",
        "proton.me",
        "icloud.com",
        "outlook.com",
        "example.org",
        "hotmail.co.uk",
        "company.example",
        "mail.acme-corp.com",
        "students.uni-example.edu",
        "engineering.subsidiary.example-holdings.com",
    ];
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let mut local = match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}_{last}"),
        2 => format!("{}{last}", &first[..1]),
        3 => first.to_owned(),
        _ => format!("{first}{last}"),
    };
    // Zero to four digits, as in "jan.kim1987".
    for _ in 0..rng.below(5) {
        local.push(char::from(b'0' + rng.below(10) as u8));
    }
    if rng.below(8) == 0 {
        local.push_str("+news");
    }
    format!("{local}@{}", rng.pick(DOMAINS))
}
