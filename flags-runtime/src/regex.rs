//! A small regular-expression matcher for the `regex` constraint operator: RE2 syntax
//! (the subset below), unanchored search, linear time, and no allocation per match.
//!
//! Patterns compile to a Thompson NFA of at most [`MAX_INSTS`] instructions; matching
//! simulates it with two fixed-size bit sets on the stack, so a match costs
//! O(text length × program size / 64) and never backtracks, whatever the pattern.
//!
//! Supported: literals and escapes (`\.`, `\n`, `\t`, `\xHH`, `\x{HHHH}`), `.`,
//! classes (`[a-z]`, `[^…]`, `\d \w \s \D \W \S`, `[[:alpha:]]` and the other ASCII
//! POSIX classes), groups (`(…)`, `(?:…)`, `(?P<name>…)`, `(?<name>…)`), flags
//! (`(?i)`, `(?m)`, `(?s)`, `(?U)`, also scoped as `(?i:…)`), alternation,
//! repetition (`* + ? {n} {n,} {n,m}` and their lazy forms) and the assertions
//! `^ $ \A \z \b \B`. Unicode classes (`\p{…}`) are not supported: a pattern using
//! them does not compile, and a constraint with it never matches.

use std::fmt;

/// Largest program, in instructions.
pub(crate) const MAX_INSTS: usize = 1024;
const WORDS: usize = MAX_INSTS / 64;
/// Room for every push of one closure computation (see `Regex::add`).
const STACK: usize = 2 * MAX_INSTS + 1;
const MAX_DEPTH: usize = 64;
const MAX_REPEAT: u32 = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Assert {
    TextStart,
    TextEnd,
    LineStart,
    LineEnd,
    WordBoundary,
    NotWordBoundary,
}

impl Assert {
    fn holds(self, prev: Option<char>, next: Option<char>) -> bool {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        match self {
            Assert::TextStart => prev.is_none(),
            Assert::TextEnd => next.is_none(),
            Assert::LineStart => prev.is_none_or(|c| c == '\n'),
            Assert::LineEnd => next.is_none_or(|c| c == '\n'),
            Assert::WordBoundary => word(prev) != word(next),
            Assert::NotWordBoundary => word(prev) == word(next),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Class {
    ranges: Vec<(char, char)>,
    negated: bool,
    fold: bool,
}

impl Class {
    fn contains_exact(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }

    fn matches(&self, c: char) -> bool {
        let hit = self.contains_exact(c)
            || (self.fold
                && (simple_lower(c).is_some_and(|l| self.contains_exact(l))
                    || simple_upper(c).is_some_and(|u| self.contains_exact(u))));
        hit != self.negated
    }
}

/// The one-character lower case of `c`, if it has one different from `c`.
fn simple_lower(c: char) -> Option<char> {
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) if x != c => Some(x),
        _ => None,
    }
}

/// The one-character upper case of `c`, if it has one different from `c`.
fn simple_upper(c: char) -> Option<char> {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(x), None) if x != c => Some(x),
        _ => None,
    }
}

fn same_folded(a: char, b: char) -> bool {
    a == b || simple_lower(a).unwrap_or(a) == simple_lower(b).unwrap_or(b)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Empty,
    Char {
        c: char,
        fold: bool,
    },
    Any {
        newline: bool,
    },
    Class(Class),
    Assert(Assert),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Clone, Copy, Debug, Default)]
struct Flags {
    fold: bool,
    multi_line: bool,
    dot_nl: bool,
}

/// Why a pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PatternError(String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct Parser<'p> {
    chars: std::iter::Peekable<std::str::Chars<'p>>,
}

fn err<T>(msg: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(msg.into()))
}

impl Parser<'_> {
    fn eat(&mut self, c: char) -> bool {
        if self.chars.peek() == Some(&c) {
            self.chars.next();
            true
        } else {
            false
        }
    }

    fn alt(&mut self, flags: Flags, depth: usize) -> Result<Node, PatternError> {
        if depth > MAX_DEPTH {
            return err("groups nest too deeply");
        }
        let mut flags = flags;
        let mut branches = vec![self.concat(&mut flags, depth)?];
        while self.eat('|') {
            branches.push(self.concat(&mut flags, depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Empty)
        } else {
            Node::Alt(branches)
        })
    }

    fn concat(&mut self, flags: &mut Flags, depth: usize) -> Result<Node, PatternError> {
        let mut items = Vec::new();
        while let Some(&c) = self.chars.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = match self.atom(flags, depth)? {
                Some(a) => a,
                None => continue,
            };
            items.push(self.repeat(atom)?);
        }
        Ok(match items.len() {
            0 => Node::Empty,
            1 => items.pop().unwrap_or(Node::Empty),
            _ => Node::Concat(items),
        })
    }

    fn repeat(&mut self, atom: Node) -> Result<Node, PatternError> {
        let (min, max) = match self.chars.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                let mut probe = self.chars.clone();
                probe.next();
                match counted(&mut probe)? {
                    Some((min, max)) => {
                        self.chars = probe;
                        return self.finish_repeat(atom, min, max);
                    }
                    // Not a repetition: a literal `{`, as in RE2.
                    None => return Ok(atom),
                }
            }
            _ => return Ok(atom),
        };
        self.chars.next();
        self.finish_repeat(atom, min, max)
    }

    fn finish_repeat(
        &mut self,
        atom: Node,
        min: u32,
        max: Option<u32>,
    ) -> Result<Node, PatternError> {
        // Laziness does not change whether a text matches.
        self.eat('?');
        if matches!(self.chars.peek(), Some('*' | '+' | '?')) {
            return err("bad repetition operator");
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    fn atom(&mut self, flags: &mut Flags, depth: usize) -> Result<Option<Node>, PatternError> {
        let Some(c) = self.chars.next() else {
            return Ok(None);
        };
        Ok(Some(match c {
            '(' => {
                let mut inner = *flags;
                if self.eat('?') {
                    if self.eat('P') || self.chars.peek() == Some(&'<') {
                        if !self.eat('<') {
                            return err("bad named group");
                        }
                        let mut named = false;
                        for n in self.chars.by_ref() {
                            if n == '>' {
                                named = true;
                                break;
                            }
                            if !(n.is_ascii_alphanumeric() || n == '_') {
                                return err("bad group name");
                            }
                        }
                        if !named {
                            return err("unterminated group name");
                        }
                    } else {
                        let mut on = true;
                        let mut scoped = false;
                        loop {
                            match self.chars.next() {
                                Some('i') => inner.fold = on,
                                Some('m') => inner.multi_line = on,
                                Some('s') => inner.dot_nl = on,
                                Some('U') => {}
                                Some('-') if on => on = false,
                                Some(':') => {
                                    scoped = true;
                                    break;
                                }
                                Some(')') => break,
                                _ => return err("bad flags group"),
                            }
                        }
                        if !scoped {
                            // `(?i)`: the flags apply to the rest of the enclosing group.
                            *flags = inner;
                            return Ok(None);
                        }
                    }
                }
                let node = self.alt(inner, depth + 1)?;
                if !self.eat(')') {
                    return err("missing closing )");
                }
                node
            }
            ')' => return err("unexpected )"),
            '*' | '+' | '?' => return err("missing argument to repetition operator"),
            '.' => Node::Any {
                newline: flags.dot_nl,
            },
            '^' => Node::Assert(if flags.multi_line {
                Assert::LineStart
            } else {
                Assert::TextStart
            }),
            '$' => Node::Assert(if flags.multi_line {
                Assert::LineEnd
            } else {
                Assert::TextEnd
            }),
            '[' => Node::Class(self.class(flags.fold)?),
            '\\' => self.escape(flags.fold)?,
            c => Node::Char {
                c,
                fold: flags.fold,
            },
        }))
    }

    fn escape(&mut self, fold: bool) -> Result<Node, PatternError> {
        let Some(c) = self.chars.next() else {
            return err("trailing backslash");
        };
        Ok(match c {
            'A' => Node::Assert(Assert::TextStart),
            'z' => Node::Assert(Assert::TextEnd),
            'b' => Node::Assert(Assert::WordBoundary),
            'B' => Node::Assert(Assert::NotWordBoundary),
            'd' | 'D' | 'w' | 'W' | 's' | 'S' => Node::Class(Class {
                ranges: perl_class(c.to_ascii_lowercase()).to_vec(),
                negated: c.is_ascii_uppercase(),
                fold: false,
            }),
            _ => Node::Char {
                c: self.escaped_char(c)?,
                fold,
            },
        })
    }

    /// The character an escape inside or outside a class stands for.
    fn escaped_char(&mut self, c: char) -> Result<char, PatternError> {
        Ok(match c {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\x0c',
            'v' => '\x0b',
            'a' => '\x07',
            'x' => {
                let mut hex = String::new();
                if self.eat('{') {
                    for h in self.chars.by_ref() {
                        if h == '}' {
                            break;
                        }
                        hex.push(h);
                    }
                } else {
                    for _ in 0..2 {
                        hex.extend(self.chars.next());
                    }
                }
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .map_or_else(|| err("bad \\x escape"), Ok)?
            }
            c if c.is_ascii_punctuation() => c,
            _ => return err(format!("unsupported escape \\{c}")),
        })
    }

    fn class(&mut self, fold: bool) -> Result<Class, PatternError> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let Some(c) = self.chars.next() else {
                return err("missing closing ]");
            };
            if c == ']' && !first {
                break;
            }
            first = false;
            let lo = match c {
                '[' if self.chars.peek() == Some(&':') => {
                    let mut name = String::new();
                    self.chars.next();
                    let negate = self.eat('^');
                    loop {
                        match self.chars.next() {
                            Some(':') if self.eat(']') => break,
                            Some(ch) if ch.is_ascii_alphabetic() => name.push(ch),
                            _ => return err("bad POSIX class"),
                        }
                    }
                    let Some(set) = posix_class(&name) else {
                        return err(format!("unknown POSIX class {name}"));
                    };
                    if negate {
                        ranges.extend(complement(set));
                    } else {
                        ranges.extend_from_slice(set);
                    }
                    continue;
                }
                '\\' => {
                    let Some(e) = self.chars.next() else {
                        return err("trailing backslash");
                    };
                    if matches!(e, 'd' | 'D' | 'w' | 'W' | 's' | 'S') {
                        let set = perl_class(e.to_ascii_lowercase());
                        if e.is_ascii_uppercase() {
                            ranges.extend(complement(set));
                        } else {
                            ranges.extend_from_slice(set);
                        }
                        continue;
                    }
                    self.escaped_char(e)?
                }
                c => c,
            };
            let mut probe = self.chars.clone();
            if probe.next() == Some('-') && probe.peek().is_some_and(|&n| n != ']') {
                self.chars.next();
                let hi = match self.chars.next() {
                    Some('\\') => match self.chars.next() {
                        Some(e) => self.escaped_char(e)?,
                        None => return err("trailing backslash"),
                    },
                    Some(h) => h,
                    None => return err("missing closing ]"),
                };
                if hi < lo {
                    return err("bad character class range");
                }
                ranges.push((lo, hi));
            } else {
                ranges.push((lo, lo));
            }
        }
        Ok(Class {
            ranges,
            negated,
            fold,
        })
    }
}

/// `{n}`, `{n,}` or `{n,m}` after the `{`; `None` when the text is not one (then the
/// brace is a literal).
fn counted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<Option<(u32, Option<u32>)>, PatternError> {
    let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut n: Option<u32> = None;
        while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
            chars.next();
            n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d));
        }
        n
    };
    let Some(min) = number(chars) else {
        return Ok(None);
    };
    let max = if chars.peek() == Some(&',') {
        chars.next();
        number(chars)
    } else {
        Some(min)
    };
    if chars.next() != Some('}') {
        return Ok(None);
    }
    if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
        return err("bad repetition count");
    }
    Ok(Some((min, max)))
}

fn perl_class(c: char) -> &'static [(char, char)] {
    match c {
        'd' => &[('0', '9')],
        'w' => &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        _ => &[('\t', '\n'), ('\x0c', '\r'), (' ', ' ')],
    }
}

fn posix_class(name: &str) -> Option<&'static [(char, char)]> {
    Some(match name {
        "alnum" => &[('0', '9'), ('A', 'Z'), ('a', 'z')],
        "alpha" => &[('A', 'Z'), ('a', 'z')],
        "ascii" => &[('\0', '\x7f')],
        "blank" => &[('\t', '\t'), (' ', ' ')],
        "cntrl" => &[('\0', '\x1f'), ('\x7f', '\x7f')],
        "digit" => &[('0', '9')],
        "graph" => &[('!', '~')],
        "print" => &[(' ', '~')],
        "lower" => &[('a', 'z')],
        "punct" => &[('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        "space" => &[('\t', '\r'), (' ', ' ')],
        "upper" => &[('A', 'Z')],
        "word" => &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        "xdigit" => &[('0', '9'), ('A', 'F'), ('a', 'f')],
        _ => return None,
    })
}

/// The complement of sorted, disjoint `ranges` over all of `char`.
fn complement(ranges: &[(char, char)]) -> Vec<(char, char)> {
    let mut out = Vec::new();
    let mut next = Some('\0');
    for &(lo, hi) in ranges {
        if let Some(from) = next.filter(|&n| n < lo) {
            // `lo` is above `from`, so it has a predecessor; skip the surrogate gap.
            let to = char::from_u32(lo as u32 - 1).unwrap_or('\u{D7FF}');
            out.push((from, to));
        }
        next = match hi {
            char::MAX => None,
            '\u{D7FF}' => Some('\u{E000}'),
            _ => char::from_u32(hi as u32 + 1),
        };
    }
    if let Some(from) = next {
        out.push((from, char::MAX));
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Inst {
    Char(char, bool),
    Any,
    AnyNotNl,
    Class(usize),
    Assert(Assert),
    Split(usize, usize),
    Jmp(usize),
    Match,
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Regex {
    insts: Box<[Inst]>,
    classes: Box<[Class]>,
}

struct Compiler {
    insts: Vec<Inst>,
    classes: Vec<Class>,
    /// Nodes emitted so far. The instruction cap alone does not bound compilation:
    /// repeating a node that emits nothing (`(?:){1000}`, nested) loops without ever
    /// adding an instruction, so emission itself is budgeted too.
    work: usize,
}

/// The most nodes one compilation may emit (several times [`MAX_INSTS`]: a pattern
/// within the instruction cap never comes close).
const MAX_WORK: usize = 16 * MAX_INSTS;

impl Compiler {
    fn push(&mut self, inst: Inst) -> Result<usize, PatternError> {
        if self.insts.len() >= MAX_INSTS - 1 {
            return err("pattern too large");
        }
        self.insts.push(inst);
        Ok(self.insts.len() - 1)
    }

    fn emit(&mut self, node: &Node) -> Result<(), PatternError> {
        self.work += 1;
        if self.work > MAX_WORK {
            return err("pattern too large");
        }
        match node {
            Node::Empty => {}
            Node::Char { c, fold } => {
                self.push(Inst::Char(*c, *fold))?;
            }
            Node::Any { newline } => {
                self.push(if *newline { Inst::Any } else { Inst::AnyNotNl })?;
            }
            Node::Class(c) => {
                self.classes.push(c.clone());
                self.push(Inst::Class(self.classes.len() - 1))?;
            }
            Node::Assert(a) => {
                self.push(Inst::Assert(*a))?;
            }
            Node::Concat(items) => {
                for i in items {
                    self.emit(i)?;
                }
            }
            Node::Alt(branches) => {
                let mut jumps = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    if i + 1 < branches.len() {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(b)?;
                        jumps.push(self.push(Inst::Jmp(0))?);
                        let next = self.insts.len();
                        self.insts[split] = Inst::Split(split + 1, next);
                    } else {
                        self.emit(b)?;
                    }
                }
                let end = self.insts.len();
                for j in jumps {
                    self.insts[j] = Inst::Jmp(end);
                }
            }
            Node::Repeat { node, min, max } => {
                for _ in 0..*min {
                    self.emit(node)?;
                }
                match max {
                    None => {
                        let split = self.push(Inst::Split(0, 0))?;
                        self.emit(node)?;
                        self.push(Inst::Jmp(split))?;
                        let end = self.insts.len();
                        self.insts[split] = Inst::Split(split + 1, end);
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.push(Inst::Split(0, 0))?);
                            self.emit(node)?;
                        }
                        let end = self.insts.len();
                        for s in splits {
                            self.insts[s] = Inst::Split(s + 1, end);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

type Set = [u64; WORDS];

impl Regex {
    /// Compiles `pattern`; `fold` makes the whole pattern case-insensitive (as `(?i)`).
    pub(crate) fn new(pattern: &str, fold: bool) -> Result<Regex, PatternError> {
        if pattern.len() > 8 * MAX_INSTS {
            return err("pattern too long");
        }
        let mut parser = Parser {
            chars: pattern.chars().peekable(),
        };
        let flags = Flags {
            fold,
            ..Flags::default()
        };
        let node = parser.alt(flags, 0)?;
        if parser.chars.next().is_some() {
            return err("unexpected )");
        }
        let mut c = Compiler {
            insts: Vec::new(),
            classes: Vec::new(),
            work: 0,
        };
        c.emit(&node)?;
        c.insts.push(Inst::Match);
        Ok(Regex {
            insts: c.insts.into_boxed_slice(),
            classes: c.classes.into_boxed_slice(),
        })
    }

    /// Adds `pc` and everything reachable from it without consuming input (given the
    /// characters around the position) to `set`.
    fn add(
        &self,
        set: &mut Set,
        stack: &mut [u16; STACK],
        pc: usize,
        prev: Option<char>,
        next: Option<char>,
    ) {
        let mut top = 0;
        stack[0] = pc as u16;
        top += 1;
        while top > 0 {
            top -= 1;
            let pc = usize::from(stack[top]);
            let (w, b) = (pc / 64, 1u64 << (pc % 64));
            if set[w] & b != 0 {
                continue;
            }
            set[w] |= b;
            // Each instruction is expanded at most once per set (guarded by the bit
            // above) and has at most two successors, so at most 1 + 2 * MAX_INSTS
            // entries are ever pushed: the stack cannot overflow. The bound check
            // keeps that explicit.
            let mut push = |target: usize| {
                if top < STACK && target < self.insts.len() {
                    stack[top] = target as u16;
                    top += 1;
                }
            };
            match self.insts[pc] {
                Inst::Jmp(t) => push(t),
                Inst::Split(a, b) => {
                    push(b);
                    push(a);
                }
                Inst::Assert(a) if a.holds(prev, next) => push(pc + 1),
                _ => {}
            }
        }
    }

    /// Whether `text` contains a match.
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let matched = self.insts.len() - 1;
        let is_set = |s: &Set, pc: usize| s[pc / 64] & (1u64 << (pc % 64)) != 0;
        let mut cur: Set = [0; WORDS];
        let mut next: Set = [0; WORDS];
        let mut stack = [0u16; STACK];
        let mut prev = None;
        let mut chars = text.chars().peekable();
        loop {
            let here = chars.next();
            self.add(&mut cur, &mut stack, 0, prev, here);
            if is_set(&cur, matched) {
                return true;
            }
            let Some(ch) = here else {
                return false;
            };
            let after = chars.peek().copied();
            next.fill(0);
            for (w, &word) in cur.iter().enumerate() {
                let mut bits = word;
                while bits != 0 {
                    let pc = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let step = match self.insts[pc] {
                        Inst::Char(c, fold) => c == ch || (fold && same_folded(c, ch)),
                        Inst::Any => true,
                        Inst::AnyNotNl => ch != '\n',
                        Inst::Class(i) => self.classes[i].matches(ch),
                        _ => false,
                    };
                    if step {
                        self.add(&mut next, &mut stack, pc + 1, Some(ch), after);
                    }
                }
            }
            std::mem::swap(&mut cur, &mut next);
            prev = Some(ch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn re(p: &str) -> Regex {
        match Regex::new(p, false) {
            Ok(r) => r,
            Err(e) => panic!("{p}: {e}"),
        }
    }

    #[test]
    fn empty_repeats_cannot_stall_compilation() {
        // Without a work budget this nests to 10^12 emissions of nothing.
        assert!(Regex::new("((((){1000}){1000}){1000}){1000}", false).is_err());
        assert!(Regex::new("(?:(?:(?:){1000}){1000}){1000}", false).is_err());
        // A small empty repeat is fine: only the runaway nesting is refused.
        assert!(Regex::new("((){10}){10}", false).is_ok());
        // Ordinary bounded repeats still compile.
        assert!(Regex::new("(ab){2,5}c{3}", false).is_ok());
    }

    #[test]
    fn literals_and_search() {
        assert!(re("abc").is_match("xxabcxx"));
        assert!(!re("abc").is_match("ab c"));
        assert!(re("").is_match(""));
        assert!(re("a.c").is_match("abc"));
        assert!(!re("a.c").is_match("a\nc"));
        assert!(re("(?s)a.c").is_match("a\nc"));
        assert!(re(r"1\.2").is_match("v1.2"));
        assert!(!re(r"1\.2").is_match("v1x2"));
    }

    #[test]
    fn anchors_and_boundaries() {
        assert!(re("^abc$").is_match("abc"));
        assert!(!re("^abc$").is_match("abcd"));
        assert!(!re("^abc$").is_match("abc\n"));
        assert!(re("(?m)^b$").is_match("a\nb\nc"));
        assert!(!re("^b$").is_match("a\nb\nc"));
        assert!(re(r"\bcat\b").is_match("a cat!"));
        assert!(!re(r"\bcat\b").is_match("concatenate"));
        assert!(re(r"\Bcat\B").is_match("concatenate"));
        assert!(re(r"\Aab\z").is_match("ab"));
    }

    #[test]
    fn classes() {
        assert!(re("[a-c]+x").is_match("zzbcax"));
        assert!(!re("^[^0-9]+$").is_match("ab3"));
        assert!(re(r"^\d{3}-\d{4}$").is_match("555-1234"));
        assert!(!re(r"^\d{3}-\d{4}$").is_match("55-1234"));
        assert!(re(r"^\w+@\w+\.com$").is_match("ann_1@example.com"));
        assert!(re(r"\s").is_match("a b"));
        assert!(!re(r"\S").is_match(" \t"));
        assert!(re("[[:upper:]][[:digit:]]").is_match("xA1"));
        assert!(re("[[:^alpha:]]").is_match("ab1"));
        assert!(!re("[[:^alpha:]]").is_match("ab"));
        assert!(re(r"[^\s]").is_match("\u{10FFFF}"));
        assert_eq!(
            complement(&[
                ('\0', 'a'),
                ('\u{D7FF}', '\u{D7FF}'),
                ('\u{10FFFF}', '\u{10FFFF}')
            ]),
            vec![('b', '\u{D7FE}'), ('\u{E000}', '\u{10FFFE}')]
        );
        assert!(re("[]a]").is_match("]"));
        assert!(re("[a-]").is_match("-"));
        assert!(re(r"[\]\-]").is_match("-"));
        assert!(re(r"[\d.]+").is_match("1.5"));
        assert!(re(r"[^\W_]").is_match("_a"));
        assert!(!re(r"^[^\W_]$").is_match("_"));
    }

    #[test]
    fn repetition_and_alternation() {
        assert!(re("^(ab|cd)*$").is_match("abcdab"));
        assert!(!re("^(ab|cd)*$").is_match("abc"));
        assert!(re("^a{2,3}$").is_match("aaa"));
        assert!(!re("^a{2,3}$").is_match("aaaa"));
        assert!(re("^a{2,}$").is_match("aaaaa"));
        assert!(re("^x?y+?$").is_match("yy"));
        assert!(re("^(?:a|b|)c$").is_match("c"));
        assert!(re("^(?P<year>\\d{4})-(?<m>\\d\\d)$").is_match("2026-05"));
        assert!(re("a{,2}").is_match("a{,2}"), "not a repetition: literal");
        // Nested empty loops terminate.
        assert!(re("^(a*)*$").is_match("aaaa"));
        assert!(re("^(a*)*b$").is_match("aaab"));
        assert!(!re("^(a*)*b$").is_match(&"a".repeat(200)));
    }

    #[test]
    fn case_folding() {
        assert!(re("(?i)hello").is_match("HeLLo world"));
        assert!(!re("hello").is_match("HELLO"));
        assert!(re("(?i:h)ello").is_match("Hello"));
        assert!(!re("(?i:h)ello").is_match("HELLO"));
        assert!(re("(?i)[a-c]x").is_match("BX"));
        assert!(re("(?i)é").is_match("É"));
        assert!(re("a(?i)b").is_match("aB"));
        assert!(!re("a(?i)b").is_match("AB"));
        assert!(re("(?i)x(?-i)y").is_match("Xy"));
        assert!(!re("(?i)x(?-i)y").is_match("XY"));
        let folded = Regex::new("^beta-[a-z]+$", true).unwrap_or_else(|e| panic!("{e}"));
        assert!(folded.is_match("BETA-Users"));
    }

    #[test]
    fn escapes() {
        assert!(re(r"\x41\x{1F600}").is_match("A😀"));
        assert!(re(r"a\tb\nc").is_match("a\tb\nc"));
        assert!(re(r"\(\)\[\]\{\}\*\+\?\|\^\$").is_match("()[]{}*+?|^$"));
    }

    #[test]
    fn refused_patterns() {
        for bad in [
            "(",
            ")",
            "a)",
            "[a",
            "*a",
            "a**",
            "a{2,1}",
            r"\p{L}",
            r"\q",
            "a\\",
            "(?x)",
            "[z-a]",
            "(?P<n",
            "a{1001}",
            "[[:nope:]]",
        ] {
            assert!(Regex::new(bad, false).is_err(), "{bad}");
        }
        // Patterns whose program would exceed the limit are refused, not truncated.
        assert!(Regex::new("(abcdefghij){200}", false).is_err());
    }

    #[test]
    fn linear_on_pathological_input() {
        // Catastrophic for backtracking engines; linear here.
        let r = re("^(a+)+$");
        let text = format!("{}b", "a".repeat(5000));
        let start = std::time::Instant::now();
        assert!(!r.is_match(&text));
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }

    /// A naive reference for a tiny pattern family: literal alternations of
    /// `[ab]*`-style words, checked against the NFA.
    fn reference(words: &[String], text: &str) -> bool {
        words.iter().any(|w| text.contains(w.as_str()))
    }

    proptest! {
        #[test]
        fn never_panics(p in ".{0,24}", t in ".{0,40}") {
            if let Ok(r) = Regex::new(&p, false) {
                let _ = r.is_match(&t);
            }
            if let Ok(r) = Regex::new(&p, true) {
                let _ = r.is_match(&t);
            }
        }

        #[test]
        fn alternation_of_literals_is_substring_search(
            words in proptest::collection::vec("[abc]{1,4}", 1..4),
            text in "[abc]{0,20}",
        ) {
            let r = Regex::new(&words.join("|"), false)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(r.is_match(&text), reference(&words, &text));
        }
    }
}
