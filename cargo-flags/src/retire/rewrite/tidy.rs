//! What a rewrite leaves unused, tidied so the result builds without new warnings: a
//! parameter only the removed branch read is renamed `_name`; a `let` holding a
//! context or snapshot that only the flag's read used is removed; an import of the
//! generated module that nothing in its module uses any more is removed. Each is
//! judged by comparing the identifiers of the old text with those of the rewritten
//! text, so code that never used a name is left as it was.

use std::collections::HashMap;
use std::ops::Range;

use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};

use super::super::edits::{Edit, Lines, apply};
use super::ident_str;
use crate::retire::target::Target;

/// The edits that tidy after `edits` (resolved, on `src`).
pub fn tidy(src: &str, ast: &syn::File, edits: &[Edit], target: &Target) -> Vec<Edit> {
    let lines = Lines::new(src);
    let mut t = Tidy {
        src,
        lines: &lines,
        edits,
        target,
        out: Vec::new(),
    };
    t.items(&ast.items);
    t.visit_file(ast);
    t.out
}

struct Tidy<'a> {
    src: &'a str,
    lines: &'a Lines<'a>,
    edits: &'a [Edit],
    target: &'a Target,
    out: Vec<Edit>,
}

fn count(text: &str, counts: &mut HashMap<String, usize>) {
    fn walk(tokens: TokenStream, counts: &mut HashMap<String, usize>) {
        for t in tokens {
            match t {
                TokenTree::Ident(i) => *counts.entry(ident_str(&i)).or_default() += 1,
                TokenTree::Group(g) => walk(g.stream(), counts),
                _ => {}
            }
        }
    }
    if let Ok(tokens) = text.parse::<TokenStream>() {
        walk(tokens, counts);
    }
}

fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Ident(i) => ident_str(&i) == name,
        TokenTree::Group(g) => mentions(g.stream(), name),
        _ => false,
    })
}

/// Whether `text` may change the local `name`: assigned (`=`, `+=`, ...), borrowed
/// mutably, indexed, or the receiver of a method (which may take `&mut self`), or
/// named in a macro. `None` when the text does not tokenize.
fn changes(text: &str, name: &str) -> Option<bool> {
    fn walk(tokens: Vec<TokenTree>, name: &str) -> bool {
        for (i, t) in tokens.iter().enumerate() {
            match t {
                TokenTree::Group(g) => {
                    let in_macro = i > 0
                        && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '!');
                    if in_macro && mentions(g.stream(), name) {
                        return true;
                    }
                    if walk(g.stream().into_iter().collect(), name) {
                        return true;
                    }
                }
                TokenTree::Ident(id) if ident_str(id) == name => {
                    let before_mut =
                        i > 0 && matches!(&tokens[i - 1], TokenTree::Ident(m) if m == "mut");
                    let after = tokens.get(i + 1);
                    let assigns = match after {
                        Some(TokenTree::Punct(p)) => {
                            let c = p.as_char();
                            let next_eq = matches!(tokens.get(i + 2),
                                Some(TokenTree::Punct(q)) if q.as_char() == '=');
                            (c == '=' && !next_eq)
                                || (matches!(c, '+' | '-' | '*' | '/' | '%' | '^' | '&' | '|')
                                    && next_eq)
                                || c == '.'
                        }
                        Some(TokenTree::Group(g)) => {
                            g.delimiter() == proc_macro2::Delimiter::Bracket
                        }
                        _ => false,
                    };
                    if before_mut || assigns {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }
    let tokens: TokenStream = text.parse().ok()?;
    Some(walk(tokens.into_iter().collect(), name))
}

/// A value whose construction has no effect worth keeping: a `Context` built from
/// plain arguments, or a registry snapshot.
fn context_like(e: &Expr) -> bool {
    let plain = |args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>| {
        args.iter()
            .all(|a| matches!(a, Expr::Lit(_) | Expr::Path(_) | Expr::Reference(_)))
    };
    match e {
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Path(p)
                if p.path.segments.iter().any(|s| s.ident == "Context"))
                && plain(&c.args)
        }
        Expr::MethodCall(m) => {
            (m.method == "snapshot"
                && m.args.is_empty()
                && matches!(&*m.receiver, Expr::Path(p)
                    if p.path.segments.last().is_some_and(|s| s.ident == "REGISTRY")))
                || (context_like(&m.receiver) && plain(&m.args))
        }
        _ => false,
    }
}

impl Tidy<'_> {
    fn range(&self, node: &impl Spanned) -> Range<usize> {
        self.lines.range(node.span())
    }

    /// Whether an edit touches `range` (then its text is already being changed).
    fn edited(&self, range: &Range<usize>) -> bool {
        self.edits
            .iter()
            .any(|e| e.range.start < range.end && range.start < e.range.end)
    }

    /// The text of `range` after the edits, or `None` when an edit crosses its ends.
    fn new_text(&self, range: Range<usize>) -> Option<String> {
        let mut inside = Vec::new();
        // Removed whole (a fallback no longer referenced): its text is the edit's.
        if let Some(e) = self
            .edits
            .iter()
            .find(|e| e.range.start <= range.start && range.end <= e.range.end && e.range != range)
        {
            return Some(e.text.clone());
        }
        for e in self.edits {
            if e.range.start >= range.start && e.range.end <= range.end {
                inside.push(Edit {
                    range: e.range.start - range.start..e.range.end - range.start,
                    text: e.text.clone(),
                });
            } else if e.range.start < range.end && range.start < e.range.end {
                return None;
            }
        }
        Some(apply(&self.src[range], &inside))
    }

    /// Old and new identifier counts of `range`.
    fn counts(
        &self,
        range: Range<usize>,
    ) -> Option<(HashMap<String, usize>, HashMap<String, usize>)> {
        // From the start of its line, so an edit of whole lines falls inside.
        let range = if self.lines.starts_line(range.start) {
            self.lines.line_start(range.start)..range.end
        } else {
            range
        };
        let new = self.new_text(range.clone())?;
        let (mut o, mut n) = (HashMap::new(), HashMap::new());
        count(&self.src[range], &mut o);
        count(&new, &mut n);
        Some((o, n))
    }

    fn function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, block: &syn::Block) {
        // The body and the attributes: `#[feature_gate(.., context = ctx)]` uses `ctx`.
        let mut old: HashMap<String, usize> = HashMap::new();
        let mut new: HashMap<String, usize> = HashMap::new();
        let ranges = attrs
            .iter()
            .map(|a| self.range(a))
            .chain(std::iter::once(self.range(block)));
        for r in ranges {
            let Some((o, n)) = self.counts(r) else {
                return;
            };
            for (k, v) in o {
                *old.entry(k).or_default() += v;
            }
            for (k, v) in n {
                *new.entry(k).or_default() += v;
            }
        }
        if old == new {
            return;
        }
        for input in &sig.inputs {
            let syn::FnArg::Typed(t) = input else {
                continue;
            };
            let Pat::Ident(p) = &*t.pat else { continue };
            let name = ident_str(&p.ident);
            if name.starts_with('_') || p.subpat.is_some() {
                continue;
            }
            if old.get(&name).copied().unwrap_or(0) > 0 && new.get(&name).copied().unwrap_or(0) == 0
            {
                let r = self.range(&p.ident);
                if !self.edited(&r) {
                    self.out.push(Edit {
                        range: r,
                        text: format!("_{name}"),
                    });
                }
            }
        }
    }

    /// `let`s of contexts and snapshots whose every use went, and `let mut`s whose
    /// every change went.
    fn block(&mut self, block: &syn::Block) {
        let close = self.lines.range(block.brace_token.span.close()).start;
        for stmt in &block.stmts {
            let Stmt::Local(l) = stmt else { continue };
            let (Pat::Ident(p), Some(init)) = (&l.pat, &l.init) else {
                continue;
            };
            if let Some(m) = &p.mutability {
                let r = self.range(l);
                let rest = r.end..close;
                let name = ident_str(&p.ident);
                if !self.edited(&r)
                    && let Some(new) = self.new_text(rest.clone())
                    && changes(&self.src[rest], &name) == Some(true)
                    && changes(&new, &name) == Some(false)
                {
                    let start = self.range(m).start;
                    let end = self.range(&p.ident).start;
                    self.out.push(Edit {
                        range: start..end,
                        text: String::new(),
                    });
                }
                continue;
            }
            if init.diverge.is_some() || !context_like(&init.expr) {
                continue;
            }
            let r = self.range(l);
            if self.edited(&r) {
                continue;
            }
            let name = ident_str(&p.ident);
            let Some((old, new)) = self.counts(r.end..close) else {
                continue;
            };
            if old.get(&name).copied().unwrap_or(0) > 0 && new.get(&name).copied().unwrap_or(0) == 0
            {
                self.out.push(Edit {
                    range: self.lines.whole_lines(r.start, r.end),
                    text: String::new(),
                });
            }
        }
    }

    /// `use crate::flags;` that nothing in its module uses any more.
    fn items(&mut self, items: &[syn::Item]) {
        for (i, item) in items.iter().enumerate() {
            let syn::Item::Use(u) = item else { continue };
            let Some(alias) = module_import(&u.tree, self.target) else {
                continue;
            };
            // A child module reaching it through `super::*` keeps it needed.
            let mut old_n = 0;
            let mut new_n = 0;
            let mut unsure = false;
            for (j, other) in items.iter().enumerate() {
                if i == j {
                    continue;
                }
                if let syn::Item::Mod(m) = other {
                    // A child with its own import does not need this one; one that
                    // reaches its parent through `super::*` and names it may.
                    let own = m.content.as_ref().is_some_and(|(_, items)| {
                        items.iter().any(|i| {
                            matches!(i, syn::Item::Use(u)
                                if module_import(&u.tree, self.target).as_ref() == Some(&alias))
                        })
                    });
                    let text = &self.src[self.range(m)];
                    if !own && text.contains("super::*") {
                        let names = self.counts(self.range(m)).map(|(_, n)| n);
                        if names.is_none_or(|n| n.contains_key(&alias)) {
                            unsure = true;
                        }
                    }
                    continue;
                }
                match self.counts(self.range(other)) {
                    Some((o, n)) => {
                        old_n += o.get(&alias).copied().unwrap_or(0);
                        new_n += n.get(&alias).copied().unwrap_or(0);
                    }
                    None => unsure = true,
                }
            }
            let r = self.range(u);
            if !unsure && old_n > 0 && new_n == 0 && !self.edited(&r) {
                self.out.push(Edit {
                    range: self.lines.item_lines(r.start, r.end),
                    text: String::new(),
                });
            }
        }
    }
}

/// The local name of an import of the generated module itself (`use crate::flags;`).
fn module_import(tree: &syn::UseTree, target: &Target) -> Option<String> {
    match tree {
        syn::UseTree::Path(p) => module_import(&p.tree, target),
        syn::UseTree::Name(n) if target.modules.contains(&ident_str(&n.ident)) => {
            Some(ident_str(&n.ident))
        }
        syn::UseTree::Rename(r) if target.modules.contains(&ident_str(&r.ident)) => {
            Some(ident_str(&r.rename))
        }
        _ => None,
    }
}

impl<'ast> Visit<'ast> for Tidy<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.function(&f.attrs, &f.sig, &f.block);
        visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.function(&f.attrs, &f.sig, &f.block);
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            self.items(items);
        }
        visit::visit_item_mod(self, m);
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.block(b);
        visit::visit_block(self, b);
    }
}
