//! The second pass: one file's uses of the retired flag turned into byte-span edits.
//!
//! An expression reading the flag (`flags::x()`, `flags::X.get()`, `.get_for(..)`,
//! `.explain(..).value`, a snapshot's `.get(flags::X)`, a `let` bound to one of those)
//! is *known*: it has the kept value. Known values fold through `!`, `&&`, `||`, `==`,
//! `if let` and `matches!`; an `if` or `match` whose condition or scrutinee is known
//! keeps one branch or arm; a known value anywhere else becomes its literal (for a bool
//! flag; a variant flag's enum goes away with the flag, so such a use needs a human).
//! Anything the pass cannot rewrite safely is left as written and reported with the
//! reason.

mod items;

use std::collections::HashMap;
use std::ops::Range;

use flags_manifest::Value;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};

use super::edits::{EditId, Edits, Lines};
use super::gates::Plan;
use super::target::Target;

/// A use left for a person, with why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Human {
    /// Byte offset in the file.
    pub at: usize,
    /// Why it was not rewritten.
    pub reason: String,
}

/// One file's outcome.
#[derive(Debug, Default)]
pub struct FileRewrite {
    /// The edits.
    pub edits: Edits,
    /// Uses left alone.
    pub humans: Vec<Human>,
    /// What was done to gated functions, for the report.
    pub notes: Vec<(usize, String)>,
}

/// Which generated item a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Item {
    Accessor,
    Handle,
    Enum,
    Variant(u16),
    /// `flags::Enum::something_else` (`default()`, ...).
    EnumMember,
}

/// Where an `if` or `match` stands, which decides how a kept branch replaces it.
#[derive(Clone, Debug)]
enum Ctx {
    /// An expression statement; `range` includes its `;`, `tail` when it is the
    /// block's value.
    Stmt {
        range: Range<usize>,
        tail: bool,
        last: bool,
    },
    /// The initialiser of a `let`.
    Let,
    /// Any other expression position.
    Value,
    /// The `else` of an `if` whose block ends at `then_end`.
    Else { then_end: usize },
}

struct Binding {
    name: String,
    value: Option<Value>,
    /// The deletion of the `let`, withdrawn when a use cannot be rewritten.
    edit: Option<EditId>,
    init: Range<usize>,
    failed: bool,
}

/// Rewrites one parsed file.
pub fn rewrite_file(
    src: &str,
    ast: &syn::File,
    target: &Target,
    plan: &Plan,
    file: usize,
) -> FileRewrite {
    let lines = Lines::new(src);
    let mut r = Rewriter {
        src,
        lines: &lines,
        target,
        plan,
        file,
        imports: HashMap::new(),
        glob: false,
        enum_glob: false,
        scopes: vec![Vec::new()],
        out: FileRewrite::default(),
        gates_left: 0,
        has_our_gates: false,
        case_names: Vec::new(),
    };
    r.prepare(ast);
    r.visit_file(ast);
    r.pop_scope();
    r.out.humans.sort();
    r.out.humans.dedup();
    r.out
}

struct Rewriter<'a> {
    src: &'a str,
    lines: &'a Lines<'a>,
    target: &'a Target,
    plan: &'a Plan,
    file: usize,
    /// Local names of imported generated items.
    imports: HashMap<String, Item>,
    /// `use flags::*` in the file.
    glob: bool,
    /// `use flags::Enum::*` in the file.
    enum_glob: bool,
    scopes: Vec<Vec<Binding>>,
    out: FileRewrite,
    /// `#[feature_gate]` attributes on other flags, which keep the import needed.
    gates_left: usize,
    /// Whether the file gates functions on the retired flag.
    has_our_gates: bool,
    /// Names bound by `case = NAME` in matrix attributes.
    case_names: Vec<String>,
}

fn ident_str(i: &proc_macro2::Ident) -> String {
    let s = i.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// An expression with no effect to lose when it is dropped.
fn pure(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Path(_) => true,
        Expr::Field(f) => pure(&f.base),
        Expr::Reference(r) => pure(&r.expr),
        Expr::Paren(p) => pure(&p.expr),
        Expr::Unary(u) => pure(&u.expr),
        Expr::Binary(b) => pure(&b.left) && pure(&b.right),
        Expr::MethodCall(m) => {
            m.args.is_empty()
                && matches!(m.method.to_string().as_str(), "snapshot" | "clone" | "get")
                && pure(&m.receiver)
        }
        _ => false,
    }
}

/// An expression that can stand anywhere without parentheses.
fn atomic(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Lit(_)
            | Expr::Path(_)
            | Expr::Call(_)
            | Expr::MethodCall(_)
            | Expr::Macro(_)
            | Expr::Field(_)
            | Expr::Paren(_)
            | Expr::Tuple(_)
            | Expr::Array(_)
            | Expr::Block(_)
            | Expr::Index(_)
    )
}

fn block_like(e: &Expr) -> bool {
    matches!(
        e,
        Expr::If(_)
            | Expr::Match(_)
            | Expr::Block(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Unsafe(_)
            | Expr::TryBlock(_)
            | Expr::Const(_)
    )
}

impl Rewriter<'_> {
    fn range(&self, span: Span) -> Range<usize> {
        self.lines.range(span)
    }

    fn r(&self, node: &impl Spanned) -> Range<usize> {
        self.lines.range(node.span())
    }

    fn human(&mut self, at: usize, reason: impl Into<String>) {
        self.out.humans.push(Human {
            at,
            reason: reason.into(),
        });
    }

    fn note(&mut self, at: usize, text: String) {
        self.out.notes.push((at, text));
    }

    /// Imports and gate counts, before anything is rewritten.
    fn prepare(&mut self, ast: &syn::File) {
        struct Pre<'p, 'a>(&'p mut Rewriter<'a>);
        impl<'ast> Visit<'ast> for Pre<'_, '_> {
            fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
                self.0.collect_use(&u.tree, &mut Vec::new());
            }
            fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
                if a.path()
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "feature_gate")
                {
                    if super::gates::gate_sides(a, self.0.target).is_none() {
                        self.0.gates_left += 1;
                    } else {
                        self.0.has_our_gates = true;
                    }
                }
            }
        }
        Pre(self).visit_file(ast);
    }

    fn collect_use(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(ident_str(&p.ident));
                self.collect_use(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.collect_use(t, prefix);
                }
            }
            syn::UseTree::Glob(_) => match prefix.last() {
                Some(m) if self.target.modules.contains(m) => self.glob = true,
                Some(e) if Some(e) == self.target.enum_ty.as_ref() => self.enum_glob = true,
                _ => {}
            },
            syn::UseTree::Name(n) => self.import(&n.ident, &n.ident, prefix),
            syn::UseTree::Rename(r) => self.import(&r.ident, &r.rename, prefix),
        }
    }

    fn import(
        &mut self,
        ident: &proc_macro2::Ident,
        alias: &proc_macro2::Ident,
        prefix: &[String],
    ) {
        let name = ident_str(ident);
        let t = self.target;
        let item = if name == t.accessor {
            Item::Accessor
        } else if name == t.handle {
            Item::Handle
        } else if Some(&name) == t.enum_ty.as_ref() {
            Item::Enum
        } else if prefix.last() == t.enum_ty.as_ref()
            && let Some(i) = t.variant_of_ident(&name)
        {
            Item::Variant(i)
        } else {
            return;
        };
        self.imports.insert(ident_str(alias), item);
    }

    /// Which generated item of the retired flag a path names.
    fn classify(&self, path: &syn::Path) -> Option<Item> {
        let segs: Vec<String> = path.segments.iter().map(|s| ident_str(&s.ident)).collect();
        let n = segs.len();
        let t = self.target;
        let last = segs.last()?;
        let module_at = |i: usize| t.modules.contains(&segs[i]);
        if n == 1 {
            if let Some(item) = self.imports.get(last) {
                return Some(*item);
            }
            if self.glob {
                if *last == t.accessor {
                    return Some(Item::Accessor);
                }
                if *last == t.handle {
                    return Some(Item::Handle);
                }
                if Some(last) == t.enum_ty.as_ref() {
                    return Some(Item::Enum);
                }
            }
            if self.enum_glob {
                return t.variant_of_ident(last).map(Item::Variant);
            }
            return None;
        }
        if module_at(n - 2) {
            if *last == t.accessor {
                return Some(Item::Accessor);
            }
            if *last == t.handle {
                return Some(Item::Handle);
            }
            if Some(last) == t.enum_ty.as_ref() {
                return Some(Item::Enum);
            }
        }
        let enum_here = Some(&segs[n - 2]) == t.enum_ty.as_ref()
            && if n == 2 { self.glob } else { module_at(n - 3) }
            || n == 2 && self.imports.get(&segs[0]) == Some(&Item::Enum);
        if enum_here {
            return Some(
                t.variant_of_ident(last)
                    .map_or(Item::EnumMember, Item::Variant),
            );
        }
        None
    }

    fn path_item(&self, e: &Expr) -> Option<Item> {
        match e {
            Expr::Path(p) if p.qself.is_none() => self.classify(&p.path),
            Expr::Reference(r) => self.path_item(&r.expr),
            Expr::Paren(p) => self.path_item(&p.expr),
            _ => None,
        }
    }

    fn binding(&mut self, name: &str) -> Option<&mut Binding> {
        self.scopes
            .iter_mut()
            .rev()
            .flat_map(|s| s.iter_mut().rev())
            .find(|b| b.name == name)
    }

    fn shadow(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        for name in names {
            if self.binding(&name).is_some_and(|b| b.value.is_some())
                && let Some(scope) = self.scopes.last_mut()
            {
                scope.push(Binding {
                    name,
                    value: None,
                    edit: None,
                    init: 0..0,
                    failed: false,
                });
            }
        }
    }

    fn pop_scope(&mut self) {
        let Some(scope) = self.scopes.pop() else {
            return;
        };
        for b in scope {
            let (Some(value), true) = (b.value, b.failed) else {
                continue;
            };
            if let Some(id) = b.edit {
                self.out.edits.withdraw(id);
            }
            match self.target.literal(value) {
                Some(lit) => {
                    self.out.edits.replace(b.init.clone(), lit);
                }
                None => self.human(
                    b.init.start,
                    format!(
                        "`{}` holds the flag's variant and is used where the enum is needed",
                        b.name
                    ),
                ),
            }
        }
    }

    /// A known value where an expression of its type is expected: its literal.
    fn emit_value(&mut self, e: &Expr, v: Value) {
        match self.target.literal(v) {
            Some(lit) => {
                let range = self.r(e);
                self.out.edits.replace(range, lit);
            }
            None => {
                if let Expr::Path(p) = e
                    && let Some(name) = p.path.get_ident().map(ident_str)
                    && let Some(b) = self.binding(&name)
                {
                    b.failed = true;
                    return;
                }
                let at = self.r(e).start;
                self.human(
                    at,
                    "the variant is used as a value, and its enum goes away with the flag",
                );
            }
        }
    }

    /// Whether a pattern matches the kept value: `None` when it cannot be told or the
    /// pattern binds a name.
    fn pat_matches(&self, pat: &Pat, v: Value) -> Option<bool> {
        match pat {
            Pat::Wild(_) => Some(true),
            Pat::Paren(p) => self.pat_matches(&p.pat, v),
            Pat::Lit(l) => match (&l.lit, v) {
                (syn::Lit::Bool(b), Value::Bool(k)) => Some(b.value == k),
                _ => None,
            },
            Pat::Path(p) => match self.classify(&p.path) {
                Some(Item::Variant(i)) => Some(Value::Variant(i) == v),
                _ => None,
            },
            Pat::Ident(i) if i.subpat.is_none() => {
                let path: syn::Path = i.ident.clone().into();
                match self.classify(&path) {
                    Some(Item::Variant(x)) => Some(Value::Variant(x) == v),
                    _ => None,
                }
            }
            Pat::Or(o) => {
                let mut all_false = true;
                for case in &o.cases {
                    match self.pat_matches(case, v) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => all_false = false,
                    }
                }
                all_false.then_some(false)
            }
            _ => None,
        }
    }

    /// The known value of `e`, with no edit made inside it; or `None`, with every
    /// edit inside it made.
    fn known(&mut self, e: &Expr) -> Option<Value> {
        let keep = self.target.keep;
        match e {
            Expr::Call(c) if c.args.is_empty() => {
                if let Expr::Path(p) = &*c.func
                    && self.classify(&p.path) == Some(Item::Accessor)
                {
                    return Some(keep);
                }
                visit::visit_expr(self, e);
                None
            }
            Expr::MethodCall(m) => self.method_call(m),
            Expr::Field(f) => {
                if let Expr::MethodCall(m) = &*f.base
                    && m.method == "explain"
                    && self.path_item(&m.receiver) == Some(Item::Handle)
                    && matches!(&f.member, syn::Member::Named(n) if n == "value")
                {
                    if m.args.iter().all(pure) {
                        return Some(keep);
                    }
                    self.human(
                        self.r(e).start,
                        "explain(..) with an argument that has effects",
                    );
                    return None;
                }
                visit::visit_expr(self, e);
                None
            }
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(name) = p.path.get_ident().map(ident_str)
                    && let Some(b) = self.binding(&name)
                {
                    return b.value;
                }
                visit::visit_expr(self, e);
                None
            }
            Expr::Paren(p) => {
                let v = self.known(&p.expr)?;
                Some(v)
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => match self.known(&u.expr) {
                Some(Value::Bool(b)) => Some(Value::Bool(!b)),
                Some(v) => {
                    self.emit_value(&u.expr, v);
                    None
                }
                None => None,
            },
            Expr::Binary(b) => self.binary(b),
            Expr::Let(l) => {
                let v = self.known(&l.expr)?;
                match self.pat_matches(&l.pat, v) {
                    Some(m) => Some(Value::Bool(m)),
                    None => {
                        self.human(
                            self.r(&l.pat).start,
                            "a pattern on the flag's value that binds or cannot be decided",
                        );
                        None
                    }
                }
            }
            Expr::Macro(m) if m.mac.path.is_ident("matches") => {
                if let Ok(args) = m.mac.parse_body_with(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                ) && args.len() == 2
                    && let Some(scrutinee) = args.first()
                {
                    // `matches!(x, A | B)` parses the pattern as an expression here.
                    let pat_text = args.last().map(|a| self.lines.text(self.r(a)));
                    let pat = pat_text.and_then(|t| {
                        syn::parse::Parser::parse_str(Pat::parse_multi_with_leading_vert, t).ok()
                    });
                    if let Some(v) = self.known(scrutinee)
                        && let Some(pat) = pat
                        && let Some(b) = self.pat_matches(&pat, v)
                    {
                        return Some(Value::Bool(b));
                    }
                }
                self.visit_macro(&m.mac);
                None
            }
            Expr::If(i) => {
                self.if_expr(i, Ctx::Value);
                None
            }
            Expr::Match(m) => {
                self.match_expr(m, Ctx::Value);
                None
            }
            _ => {
                visit::visit_expr(self, e);
                None
            }
        }
    }

    fn method_call(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
        let keep = self.target.keep;
        let method = m.method.to_string();
        let on_handle = self.path_item(&m.receiver) == Some(Item::Handle);
        if on_handle {
            match method.as_str() {
                "get" if m.args.is_empty() => return Some(keep),
                "get_for" if m.args.iter().all(pure) => return Some(keep),
                "get_for" => {
                    self.human(
                        self.r(m).start,
                        "get_for(..) with a context that has effects",
                    );
                }
                "explain" => self.human(
                    self.r(m).start,
                    "explain(..) returns the whole explanation; only `.value` becomes a literal",
                ),
                other => self.human(
                    self.r(m).start,
                    format!("`.{other}()` on the flag's handle has no literal equivalent"),
                ),
            }
            return None;
        }
        let first_is_handle = m
            .args
            .first()
            .is_some_and(|a| self.path_item(a) == Some(Item::Handle));
        if first_is_handle {
            match method.as_str() {
                // A snapshot's or matrix case's read of the flag.
                "get" | "get_for" if m.args.iter().skip(1).all(pure) && pure(&m.receiver) => {
                    let is_case = matches!(&*m.receiver, Expr::Path(p)
                    if p.path.get_ident().is_some_and(|i| {
                        let i = ident_str(i);
                        i == "case" || self.case_names.contains(&i)
                    }));
                    if is_case {
                        return match self.target.literal(keep) {
                            Some(lit) => {
                                let range = self.r(m);
                                self.out.edits.replace(range, format!("Some({lit})"));
                                None
                            }
                            None => {
                                self.human(
                                    self.r(m).start,
                                    "a matrix case's read of a variant flag",
                                );
                                None
                            }
                        };
                    }
                    return Some(keep);
                }
                "set" => {
                    // `.set(flags::X, v)` in an override chain: drop the link.
                    let from = self.r(&m.receiver).end;
                    let to = self.r(m).end;
                    self.out.edits.delete(from..to);
                    self.visit_expr(&m.receiver);
                    return None;
                }
                _ => {
                    self.human(
                        self.r(m).start,
                        format!("the flag's handle is passed to `.{method}(..)`"),
                    );
                    return None;
                }
            }
        }
        if method == "flags"
            && let Some(Expr::Reference(r)) = m.args.first()
            && let Expr::Array(a) = &*r.expr
        {
            let ours: Vec<usize> = a
                .elems
                .iter()
                .enumerate()
                .filter(|(_, e)| self.path_item(e) == Some(Item::Handle))
                .map(|(i, _)| i)
                .collect();
            if !ours.is_empty() {
                if ours.len() == a.elems.len() {
                    self.human(
                        self.r(m).start,
                        "FlagMatrix::flags(..) would be left with no flag: drop the matrix",
                    );
                } else {
                    let elems: Vec<&Expr> = a.elems.iter().collect();
                    self.remove_list_items(&elems, &ours);
                }
                self.visit_expr(&m.receiver);
                return None;
            }
        }
        visit::visit_expr_method_call(self, m);
        None
    }

    /// Removes the elements at `indexes` of a comma-separated list, with their commas.
    fn remove_list_items(&mut self, elems: &[&Expr], indexes: &[usize]) {
        let ranges: Vec<Range<usize>> = elems.iter().map(|e| self.r(*e)).collect();
        self.remove_ranges_from_list(&ranges, indexes);
    }

    fn remove_ranges_from_list(&mut self, ranges: &[Range<usize>], indexes: &[usize]) {
        for &i in indexes {
            let this = ranges[i].clone();
            if let Some(next) = ranges.get(i + 1) {
                self.out.edits.delete(this.start..next.start);
            } else if i > 0 {
                // The last element: from the end of the one before, so a trailing
                // comma stays.
                self.out.edits.delete(ranges[i - 1].end..this.end);
            }
        }
    }

    fn binary(&mut self, b: &syn::ExprBinary) -> Option<Value> {
        use syn::BinOp;
        // A variant path (`flags::Layout::Wide`) is compared, not read.
        let variant = |s: &Self, e: &Expr| match s.path_item(e) {
            Some(Item::Variant(i)) => Some(Value::Variant(i)),
            _ => None,
        };
        let (lvar, rvar) = (variant(self, &b.left), variant(self, &b.right));
        let l = if lvar.is_some() {
            None
        } else {
            self.known(&b.left)
        };
        let r = if rvar.is_some() {
            None
        } else {
            self.known(&b.right)
        };
        let is_eq = matches!(b.op, BinOp::Eq(_) | BinOp::Ne(_));
        if !(is_eq && (l.is_some() || r.is_some())) {
            if lvar.is_some() {
                self.visit_expr(&b.left);
            }
            if rvar.is_some() {
                self.visit_expr(&b.right);
            }
        }
        let (lr, rr) = (self.r(&b.left), self.r(&b.right));
        match b.op {
            BinOp::And(_) | BinOp::Or(_) => {
                // The value that decides the operator alone: false for &&, true for ||.
                let absorbing = matches!(b.op, BinOp::Or(_));
                match (l, r) {
                    (Some(Value::Bool(x)), _) if x == absorbing => Some(Value::Bool(absorbing)),
                    (Some(Value::Bool(_)), Some(v)) => Some(v),
                    (Some(Value::Bool(_)), None) => {
                        self.out.edits.delete(lr.start..rr.start);
                        None
                    }
                    (None, Some(Value::Bool(x))) if x != absorbing => {
                        self.out.edits.delete(lr.end..rr.end);
                        None
                    }
                    (None, Some(Value::Bool(x))) => {
                        if pure(&b.left) {
                            Some(Value::Bool(x))
                        } else {
                            self.emit_value(&b.right, Value::Bool(x));
                            None
                        }
                    }
                    (l, r) => {
                        if let Some(v) = l {
                            self.emit_value(&b.left, v);
                        }
                        if let Some(v) = r {
                            self.emit_value(&b.right, v);
                        }
                        None
                    }
                }
            }
            BinOp::Eq(_) | BinOp::Ne(_) => {
                let ne = matches!(b.op, BinOp::Ne(_));
                let other = |e: &Expr| match e {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(x),
                        ..
                    }) => Some(Value::Bool(x.value)),
                    _ => None,
                };
                let lv = l.or(lvar).or_else(|| other(&b.left));
                let rv = r.or(rvar).or_else(|| other(&b.right));
                if (l.is_some() || r.is_some())
                    && let (Some(x), Some(y)) = (lv, rv)
                {
                    return Some(Value::Bool((x == y) != ne));
                }
                if lvar.is_some() {
                    self.visit_expr(&b.left);
                }
                if rvar.is_some() {
                    self.visit_expr(&b.right);
                }
                if let Some(v) = l {
                    self.emit_value(&b.left, v);
                }
                if let Some(v) = r {
                    self.emit_value(&b.right, v);
                }
                None
            }
            _ => {
                if let Some(v) = l {
                    self.emit_value(&b.left, v);
                }
                if let Some(v) = r {
                    self.emit_value(&b.right, v);
                }
                None
            }
        }
    }

    fn stmt(&mut self, s: &Stmt, last: bool) {
        match s {
            Stmt::Local(l) => self.local(l),
            Stmt::Expr(e, semi) => {
                let mut range = self.r(e);
                if let Some(semi) = semi {
                    range.end = self.range(semi.span).end;
                }
                let ctx = Ctx::Stmt {
                    range: range.clone(),
                    tail: last && semi.is_none(),
                    last,
                };
                match e {
                    Expr::If(i) => self.if_expr(i, ctx),
                    Expr::Match(m) => self.match_expr(m, ctx),
                    Expr::While(w) => match self.known(&w.cond) {
                        Some(Value::Bool(false)) => self.delete_stmt(range),
                        Some(v) => {
                            self.emit_value(&w.cond, v);
                            self.visit_block(&w.body);
                        }
                        None => self.visit_block(&w.body),
                    },
                    _ if self.is_override_stmt(e) => self.delete_stmt(range),
                    _ => self.visit_expr(e),
                }
            }
            Stmt::Item(i) => self.visit_item(i),
            Stmt::Macro(m) => self.visit_macro(&m.mac),
        }
    }

    /// `REGISTRY.set_override(flags::X, ..)`, `.clear_override(flags::X)`,
    /// `overrides.insert(flags::X, ..)`, with `?`, `.unwrap()` or `.expect(..)`.
    fn is_override_stmt(&self, e: &Expr) -> bool {
        match e {
            Expr::Try(t) => self.is_override_stmt(&t.expr),
            Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "unwrap" | "expect" | "ok") =>
            {
                self.is_override_stmt(&m.receiver)
            }
            Expr::MethodCall(m) => {
                matches!(
                    m.method.to_string().as_str(),
                    "set_override" | "clear_override" | "insert" | "set"
                ) && m
                    .args
                    .first()
                    .is_some_and(|a| self.path_item(a) == Some(Item::Handle))
                    && m.args.iter().skip(1).all(pure)
                    && pure(&m.receiver)
            }
            _ => false,
        }
    }

    fn delete_stmt(&mut self, range: Range<usize>) {
        let whole = self.lines.whole_lines(range.start, range.end);
        self.out.edits.delete(whole);
    }

    fn local(&mut self, l: &syn::Local) {
        let Some(init) = &l.init else {
            visit::visit_local(self, l);
            self.shadow(&l.pat);
            return;
        };
        if init.diverge.is_none() {
            match &*init.expr {
                Expr::If(i) => {
                    self.if_expr(i, Ctx::Let);
                    self.shadow(&l.pat);
                    return;
                }
                Expr::Match(m) => {
                    self.match_expr(m, Ctx::Let);
                    self.shadow(&l.pat);
                    return;
                }
                _ => {}
            }
        }
        if matches!(&l.pat, Pat::Wild(_))
            && init.diverge.is_none()
            && self.is_override_stmt(&init.expr)
        {
            let range = self.r(l);
            self.delete_stmt(range);
            return;
        }
        let name = match &l.pat {
            Pat::Ident(i) if i.by_ref.is_none() && i.mutability.is_none() && i.subpat.is_none() => {
                Some(ident_str(&i.ident))
            }
            Pat::Type(t) => match &*t.pat {
                Pat::Ident(i)
                    if i.by_ref.is_none() && i.mutability.is_none() && i.subpat.is_none() =>
                {
                    Some(ident_str(&i.ident))
                }
                _ => None,
            },
            _ => None,
        };
        if let (Some(name), None) = (&name, &init.diverge) {
            let init_range = self.r(&init.expr);
            match self.known(&init.expr) {
                Some(v) => {
                    let range = self.r(l);
                    let whole = self.lines.whole_lines(range.start, range.end);
                    let id = self.out.edits.delete(whole);
                    if let Some(scope) = self.scopes.last_mut() {
                        scope.push(Binding {
                            name: name.clone(),
                            value: Some(v),
                            edit: Some(id),
                            init: init_range,
                            failed: false,
                        });
                    }
                }
                None => self.shadow(&l.pat),
            }
            return;
        }
        if let Some(v) = self.known(&init.expr) {
            self.emit_value(&init.expr, v);
        }
        if let Some((_, diverge)) = &init.diverge {
            self.visit_expr(diverge);
        }
        self.shadow(&l.pat);
    }

    fn if_expr(&mut self, i: &syn::ExprIf, ctx: Ctx) {
        let whole = self.r(i);
        match self.known(&i.cond) {
            Some(Value::Bool(true)) => self.keep_block(whole, &i.then_branch, ctx),
            Some(Value::Bool(false)) => match i.else_branch.as_ref().map(|(_, e)| &**e) {
                Some(Expr::If(inner)) => {
                    let start = self.r(inner).start;
                    self.out.edits.delete(whole.start..start);
                    self.if_expr(inner, ctx);
                }
                Some(Expr::Block(b)) if b.label.is_none() && b.attrs.is_empty() => {
                    self.keep_block(whole, &b.block, ctx);
                }
                Some(other) => {
                    self.human(whole.start, "an `else` that is not a block");
                    self.visit_expr(other);
                }
                None => self.remove(whole, ctx),
            },
            Some(_) => self.human(whole.start, "a variant used as a condition"),
            None => {
                self.visit_block(&i.then_branch);
                let then_end = self.r(&i.then_branch).end;
                match i.else_branch.as_ref().map(|(_, e)| &**e) {
                    Some(Expr::If(inner)) => self.if_expr(inner, Ctx::Else { then_end }),
                    Some(other) => self.visit_expr(other),
                    None => {}
                }
            }
        }
    }

    /// Removes an `if` without `else` whose condition is false.
    fn remove(&mut self, whole: Range<usize>, ctx: Ctx) {
        match ctx {
            Ctx::Stmt { range, .. } => self.delete_stmt(range),
            Ctx::Let | Ctx::Value => {
                self.out.edits.replace(whole, "()");
            }
            Ctx::Else { then_end } => {
                self.out.edits.delete(then_end..whole.end);
            }
        }
    }

    /// Replaces `whole` (an `if` or `match`) with the kept block.
    fn keep_block(&mut self, whole: Range<usize>, block: &syn::Block, ctx: Ctx) {
        self.visit_block(block);
        let open = self.range(block.brace_token.span.open());
        let close = self.range(block.brace_token.span.close());
        let inner = &self.src[open.end..close.start];
        let content_start = open.end + (inner.len() - inner.trim_start().len());
        let content_end = close.start - (inner.len() - inner.trim_end().len());
        let as_block = |s: &mut Self, outer: Range<usize>| {
            s.out.edits.delete(outer.start..open.start);
            s.out.edits.delete(close.end..outer.end);
        };
        match ctx {
            Ctx::Stmt { range, tail, last } => {
                if content_start >= content_end {
                    self.delete_stmt(range);
                    return;
                }
                // The last statement's names shadow nothing after it.
                if !last && !splice_ok(block) {
                    as_block(self, range);
                    return;
                }
                // A statement of unit type that was the block's value now needs its `;`.
                if !tail
                    && let Some(Stmt::Expr(last, None)) = block.stmts.last()
                    && !block_like(last)
                {
                    let end = self.r(last).end;
                    self.out.edits.replace(end..end, ";");
                }
                let l = self.lines;
                let line_mode = l.starts_line(range.start)
                    && l.ends_line(open.end)
                    && l.starts_line(close.start)
                    && l.ends_line(range.end);
                if line_mode {
                    let body_start = l.line_end(open.end);
                    let body_end = l.line_start(close.start);
                    self.out.edits.delete(l.line_start(range.start)..body_start);
                    self.out.edits.delete(body_end..l.line_end(range.end));
                    let outer = l.indent(range.start).len();
                    let inner_indent = l.indent(content_start).len();
                    if inner_indent > outer && !multiline_literal(block, l) {
                        self.out
                            .edits
                            .dedent(l, body_start..body_end, inner_indent - outer);
                    }
                } else {
                    self.out.edits.delete(range.start..content_start);
                    self.out.edits.delete(content_end..range.end);
                }
            }
            Ctx::Let | Ctx::Value => {
                if let [Stmt::Expr(tail, None)] = block.stmts.as_slice()
                    && (matches!(ctx, Ctx::Let) || atomic(tail))
                {
                    let t = self.r(tail);
                    self.out.edits.delete(whole.start..t.start);
                    self.out.edits.delete(t.end..whole.end);
                } else {
                    as_block(self, whole);
                }
            }
            Ctx::Else { .. } => as_block(self, whole),
        }
    }

    fn match_expr(&mut self, m: &syn::ExprMatch, ctx: Ctx) {
        let whole = self.r(m);
        let Some(v) = self.known(&m.expr) else {
            for arm in &m.arms {
                self.visit_arm(arm);
            }
            return;
        };
        let mut kept = None;
        for arm in &m.arms {
            match self.pat_matches(&arm.pat, v) {
                Some(false) => {}
                Some(true) if arm.guard.is_none() => {
                    kept = Some(arm);
                    break;
                }
                _ => {
                    self.human(
                        self.r(&arm.pat).start,
                        "a match arm on the flag with a guard or a binding",
                    );
                    return;
                }
            }
        }
        let Some(arm) = kept else {
            self.human(whole.start, "no arm of this match covers the kept value");
            return;
        };
        match &*arm.body {
            Expr::Block(b) if b.label.is_none() && b.attrs.is_empty() => {
                self.keep_block(whole, &b.block, ctx);
            }
            body => {
                self.visit_expr(body);
                let b = self.r(body);
                match ctx {
                    Ctx::Stmt { range, tail, .. } => {
                        self.out.edits.delete(range.start..b.start);
                        let end = if tail || block_like(body) { "" } else { ";" };
                        self.out.edits.replace(b.end..range.end, end);
                    }
                    Ctx::Let => {
                        self.out.edits.delete(whole.start..b.start);
                        self.out.edits.delete(b.end..whole.end);
                    }
                    Ctx::Value | Ctx::Else { .. } => {
                        let (open, close) = if matches!(ctx, Ctx::Else { .. }) {
                            ("{ ", " }")
                        } else if atomic(body) {
                            ("", "")
                        } else {
                            ("(", ")")
                        };
                        self.out.edits.replace(whole.start..b.start, open);
                        self.out.edits.replace(b.end..whole.end, close);
                    }
                }
            }
        }
    }
}

/// Whether a kept block's statements can join the enclosing block: not when they
/// declare names (which could shadow later code) or items.
fn splice_ok(block: &syn::Block) -> bool {
    block.stmts.iter().all(|s| match s {
        Stmt::Local(_) | Stmt::Item(_) => false,
        Stmt::Macro(m) => !m.mac.path.is_ident("let"),
        Stmt::Expr(..) => true,
    })
}

/// Whether a literal in the block spans lines (re-indenting would change it).
fn multiline_literal(block: &syn::Block, lines: &Lines<'_>) -> bool {
    fn walk(tokens: proc_macro2::TokenStream, lines: &Lines<'_>) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Literal(l) => {
                let s = l.span();
                s.start().line != s.end().line
            }
            proc_macro2::TokenTree::Group(g) => walk(g.stream(), lines),
            _ => false,
        })
    }
    let text = lines.text(lines.range(block.span()));
    text.contains('\n')
        && text
            .parse::<proc_macro2::TokenStream>()
            .map_or(true, |t| walk(t, lines))
}

fn pat_idents(pat: &Pat, out: &mut Vec<String>) {
    struct Idents<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for Idents<'_> {
        fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
            self.0.push(ident_str(&i.ident));
            visit::visit_pat_ident(self, i);
        }
    }
    Idents(out).visit_pat(pat);
}

impl<'ast> Visit<'ast> for Rewriter<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if let Some(v) = self.known(e) {
            self.emit_value(e, v);
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.scopes.push(Vec::new());
        let n = b.stmts.len();
        for (i, s) in b.stmts.iter().enumerate() {
            self.stmt(s, i + 1 == n);
        }
        self.pop_scope();
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.scopes.push(Vec::new());
        for p in &c.inputs {
            self.shadow(p);
        }
        self.visit_expr(&c.body);
        self.pop_scope();
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        self.scopes.push(Vec::new());
        self.shadow(&arm.pat);
        self.visit_pat(&arm.pat);
        if let Some((_, guard)) = &arm.guard {
            self.visit_expr(guard);
        }
        self.visit_expr(&arm.body);
        self.pop_scope();
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if let Some(item) = self.classify(path) {
            let at = self.range(path.span()).start;
            let reason = match item {
                Item::Accessor => {
                    "the accessor is named without a call (passed as a function value)"
                }
                Item::Handle => "the flag's handle is used as a value",
                Item::Enum | Item::EnumMember => {
                    "the flag's enum is used, and it goes away with the flag"
                }
                Item::Variant(_) => {
                    "a variant of the flag's enum is used outside a match on the flag"
                }
            };
            self.human(at, reason);
            return;
        }
        visit::visit_path(self, path);
    }

    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        let v = s.value();
        if v == self.target.name || v.contains(&format!("FLAGS_{}", self.target.handle)) {
            let at = self.range(s.span()).start;
            self.human(at, "the flag is referred to by its name in a string");
        }
    }

    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {
        // Attributes are handled with the item they belong to.
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let item = self.r(f);
        if self.fn_item(&f.attrs, &f.block, item, &f.sig) {
            return;
        }
        self.visit_signature(&f.sig);
        self.visit_block(&f.block);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let item = self.r(f);
        if self.fn_item(&f.attrs, &f.block, item, &f.sig) {
            return;
        }
        self.visit_signature(&f.sig);
        self.visit_block(&f.block);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            let item = self.r(f);
            if self.fn_item(&f.attrs, block, item, &f.sig) {
                return;
            }
            self.visit_signature(&f.sig);
            self.visit_block(block);
        } else {
            visit::visit_trait_item_fn(self, f);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_item(u);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.macro_call(m);
    }
}

#[cfg(test)]
mod tests;
