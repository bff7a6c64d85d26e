//! What `requires` and `excludes` mean together, and the manifests they make
//! impossible.
//!
//! The run time decides a flag in two steps (see the README's "Dependencies between
//! flags"): a flag's *required* value is its own value (from the layer that decides it)
//! if every `requires` is met by the required flag's *final* value, else its off value;
//! its *final* value is its required value if no `excludes` is met by the excluded
//! flag's *required* value, else its off value. Exclusions are never followed through
//! the excluded flag's own exclusions, so two flags may exclude each other, and with an
//! acyclic `requires` graph every evaluation ends.
//!
//! Checked here, from that definition:
//! - a reference listed twice;
//! - a `requires` chain longer than [`MAX_REQUIRES_DEPTH`] links;
//! - a flag that can never be on (a variant flag that can never leave its default),
//!   whatever the rules say: `requires = ["x=p", "x=q"]`, `a requires b` where
//!   `b excludes a`, and every longer chain of the same kind. The message names the
//!   links that contradict each other.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ops::Range;

use crate::error::Ctxt;
use crate::model::{Flag, FlagRef, FlagType, MAX_REQUIRES_DEPTH, Value};

/// Runs every check of this module.
pub(crate) fn check(cx: &mut Ctxt<'_>, flags: &[Flag], has_cycles: bool) {
    check_duplicates(cx, flags);
    if has_cycles {
        // A cycle is already reported; depth and contradictions are measured on the
        // acyclic graph a fixed manifest will have.
        return;
    }
    check_depth(cx, flags);
    check_contradictions(cx, flags);
}

fn check_duplicates(cx: &mut Ctxt<'_>, flags: &[Flag]) {
    for flag in flags {
        for (list, what) in [(&flag.requires, "requires"), (&flag.excludes, "excludes")] {
            for (i, r) in list.iter().enumerate() {
                if list[..i]
                    .iter()
                    .any(|p| p.flag == r.flag && p.variant == r.variant)
                {
                    cx.error_help(
                        r.pos.span.clone(),
                        &format!("flags.{}.{what}", flag.name),
                        format!("`{}` is listed twice in `{what}`", spec(r)),
                        "remove the second one",
                    );
                }
            }
        }
    }
}

fn check_depth(cx: &mut Ctxt<'_>, flags: &[Flag]) {
    let index: HashMap<&str, usize> = flags
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    // Longest chain from each flag, with the next flag along it; the graph is acyclic
    // here, so an iterative post-order visit computes it once per flag.
    let mut longest: Vec<Option<(usize, Option<usize>)>> = vec![None; flags.len()];
    for start in 0..flags.len() {
        let mut stack = vec![(start, false)];
        while let Some((node, children_done)) = stack.pop() {
            if longest[node].is_some() {
                continue;
            }
            let next: Vec<usize> = flags[node]
                .requires
                .iter()
                .filter_map(|r| index.get(r.flag.as_str()).copied())
                .collect();
            if children_done {
                let best = next
                    .iter()
                    .filter_map(|&n| longest[n].map(|(len, _)| (len + 1, Some(n))))
                    .max_by_key(|(len, _)| *len)
                    .unwrap_or((0, None));
                longest[node] = Some(best);
            } else {
                stack.push((node, true));
                stack.extend(next.into_iter().map(|n| (n, false)));
            }
        }
    }
    // Report only the flag where the longest chain starts, not every flag along it.
    let Some((start, len)) = longest
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.map(|(len, _)| (i, len)))
        .max_by_key(|(_, len)| *len)
    else {
        return;
    };
    if len <= MAX_REQUIRES_DEPTH {
        return;
    }
    let mut path = vec![flags[start].name.as_str()];
    let mut at = start;
    while let Some((_, Some(next))) = longest[at] {
        path.push(&flags[next].name);
        at = next;
    }
    let shown = format!(
        "{} -> {} -> ... -> {}",
        path[0],
        path[1],
        path[path.len() - 1]
    );
    let flag = &flags[start];
    cx.error_help(
        flag.requires
            .first()
            .map_or(flag.pos.span.clone(), |r| r.pos.span.clone()),
        &format!("flags.{}.requires", flag.name),
        format!("`requires` chain of {len} links ({shown}) is longer than {MAX_REQUIRES_DEPTH}"),
        "shorten the chain: require the flags a flag really needs, not each other in a line",
    );
}

/// Which of two value levels a fact is about (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Level {
    /// The value after `requires` and `excludes`.
    Final,
    /// The value after `requires` only: what an exclusion is checked against.
    Required,
}

/// One link of the reasoning: flag `flag`'s `requires` (or `excludes`) entry `entry`,
/// reached through link `parent`. Links form a tree, so a fact keeps its whole chain
/// as one index and no chain is copied.
#[derive(Clone, Copy)]
struct Link {
    flag: usize,
    entry: usize,
    excludes: bool,
    parent: Option<usize>,
}

/// What is known about one flag at one level: the values it can still take and the
/// chain of links that narrowed it.
struct Fact {
    allowed: Vec<bool>,
    why: Option<usize>,
}

fn spec(r: &FlagRef) -> String {
    match &r.variant {
        Some(v) => format!("{}={v}", r.flag),
        None => r.flag.clone(),
    }
}

/// The index of a flag's off value: `false` for a bool flag, its default variant.
fn off(flag: &Flag) -> usize {
    match (flag.default, &flag.ty) {
        (Value::Variant(i), FlagType::Variants(_)) => usize::from(i),
        _ => 0,
    }
}

/// The values of `target` that meet reference `r` (`on`, not the default, or one
/// variant); `None` when the reference names no such variant (reported elsewhere).
fn meeting(target: &Flag, r: &FlagRef) -> Option<Vec<bool>> {
    let n = target.arity();
    match &r.variant {
        Some(v) => {
            let i = usize::from(target.variant_index(v)?);
            Some((0..n).map(|j| j == i).collect())
        }
        None => {
            let off = off(target);
            Some((0..n).map(|j| j != off).collect())
        }
    }
}

struct Search<'f> {
    flags: &'f [Flag],
    index: HashMap<&'f str, usize>,
    facts: HashMap<(Level, usize), Fact>,
    expanded: HashSet<(Level, usize)>,
    queue: VecDeque<(Level, usize, Vec<bool>, Option<usize>)>,
    links: Vec<Link>,
}

/// Two chains of links that cannot both hold.
struct Contradiction {
    earlier: Option<usize>,
    later: Option<usize>,
}

impl<'f> Search<'f> {
    /// Whether flag `start` can be on, as far as `requires`/`excludes` decide.
    fn run(&mut self, start: usize) -> Result<(), Contradiction> {
        self.facts.clear();
        self.expanded.clear();
        self.queue.clear();
        self.links.clear();
        let flag = &self.flags[start];
        let off = off(flag);
        let on = (0..flag.arity()).map(|j| j != off).collect();
        self.queue.push_back((Level::Final, start, on, None));
        while let Some((level, at, allowed, why)) = self.queue.pop_front() {
            self.add(level, at, allowed, why)?;
        }
        Ok(())
    }

    fn add(
        &mut self,
        level: Level,
        at: usize,
        allowed: Vec<bool>,
        why: Option<usize>,
    ) -> Result<(), Contradiction> {
        let flag = &self.flags[at];
        let fact = self.facts.entry((level, at)).or_insert_with(|| Fact {
            allowed: vec![true; flag.arity()],
            why: None,
        });
        let narrowed: Vec<bool> = fact
            .allowed
            .iter()
            .zip(&allowed)
            .map(|(a, b)| *a && *b)
            .collect();
        if !narrowed.contains(&true) {
            return Err(Contradiction {
                earlier: fact.why,
                later: why,
            });
        }
        if narrowed == fact.allowed {
            return Ok(());
        }
        fact.allowed = narrowed.clone();
        fact.why = why;
        if narrowed[off(flag)] {
            // The flag may still be off: nothing follows about its dependencies.
            return Ok(());
        }
        match level {
            Level::Final => {
                // A final value that is not off is the required value too, and none of
                // the flag's exclusions is met.
                self.queue.push_back((Level::Required, at, narrowed, why));
                if self.expanded.insert((level, at)) {
                    for (entry, r) in flag.excludes.iter().enumerate() {
                        if let Some((target, meets)) = self.target(r) {
                            let avoid = meets.iter().map(|m| !m).collect();
                            let link = self.link(at, entry, true, why);
                            self.queue
                                .push_back((Level::Required, target, avoid, Some(link)));
                        }
                    }
                }
            }
            Level::Required => {
                if self.expanded.insert((level, at)) {
                    for (entry, r) in flag.requires.iter().enumerate() {
                        if let Some((target, meets)) = self.target(r) {
                            let link = self.link(at, entry, false, why);
                            self.queue
                                .push_back((Level::Final, target, meets, Some(link)));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The flag `r` names and the values that meet it; `None` for a reference that is
    /// reported as dangling elsewhere.
    fn target(&self, r: &FlagRef) -> Option<(usize, Vec<bool>)> {
        let &target = self.index.get(r.flag.as_str())?;
        Some((target, meeting(&self.flags[target], r)?))
    }

    fn link(&mut self, flag: usize, entry: usize, excludes: bool, parent: Option<usize>) -> usize {
        self.links.push(Link {
            flag,
            entry,
            excludes,
            parent,
        });
        self.links.len() - 1
    }

    /// The chain ending at `link`, first link first: each as its sentence, its
    /// position and its key.
    fn chain(&self, mut link: Option<usize>) -> Vec<(String, Range<usize>, &'static str)> {
        let mut out = Vec::new();
        while let Some(i) = link {
            let l = self.links[i];
            let flag = &self.flags[l.flag];
            let (list, verb) = if l.excludes {
                (&flag.excludes, "excludes")
            } else {
                (&flag.requires, "requires")
            };
            let r = &list[l.entry];
            out.push((
                format!("`{}` {verb} `{}`", flag.name, spec(r)),
                r.pos.span.clone(),
                verb,
            ));
            link = l.parent;
        }
        out.reverse();
        out
    }
}

fn check_contradictions(cx: &mut Ctxt<'_>, flags: &[Flag]) {
    let mut search = Search {
        flags,
        index: flags
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.as_str(), i))
            .collect(),
        facts: HashMap::new(),
        expanded: HashSet::new(),
        queue: VecDeque::new(),
        links: Vec::new(),
    };
    let mut found = Vec::new();
    for (i, flag) in flags.iter().enumerate() {
        // A flag without references of its own cannot be made impossible by them.
        if flag.requires.is_empty() && flag.excludes.is_empty() {
            continue;
        }
        if let Err(c) = search.run(i) {
            found.push((i, search.chain(c.earlier), search.chain(c.later)));
        }
    }
    let impossible: HashSet<&str> = found
        .iter()
        .map(|(i, _, _)| flags[*i].name.as_str())
        .collect();
    for (i, earlier, later) in found {
        let flag = &flags[i];
        // A flag that requires an impossible flag is impossible too; the message for
        // that flag names the cause.
        if flag
            .requires
            .iter()
            .any(|r| impossible.contains(r.flag.as_str()))
        {
            continue;
        }
        let words = |links: &[(String, Range<usize>, &str)]| {
            links
                .iter()
                .map(|(text, _, _)| text.as_str())
                .collect::<Vec<_>>()
                .join(", and ")
        };
        let reason = if earlier.is_empty() {
            words(&later)
        } else {
            format!("{}, but {}", words(&earlier), words(&later))
        };
        let never = match &flag.ty {
            FlagType::Bool => "can never be on".to_owned(),
            FlagType::Variants(vs) => format!(
                "can never leave its default `{}`",
                vs.get(off(flag)).map_or("", String::as_str)
            ),
        };
        let (span, verb) = later
            .first()
            .or(earlier.first())
            .map_or((flag.pos.span.clone(), "requires"), |(_, s, verb)| {
                (s.clone(), *verb)
            });
        cx.error_help(
            span,
            &format!("flags.{}.{verb}", flag.name),
            format!("`{}` {never}: {reason}", flag.name),
            "remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it",
        );
    }
}
