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

mod flow;
mod items;
mod tidy;
mod value;

use std::collections::HashMap;
use std::ops::Range;

use flags_manifest::Value;
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat};

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
    /// A place where any expression stands as it is, with no precedence to mind: a
    /// `let`'s initialiser, an argument, a `return` value, a closure's body, a field's
    /// value.
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
    // Names only the removed code used: tidied so the result builds without warnings.
    // A tidied name can leave another unused (a snapshot's `let`, then the import):
    // a few rounds until nothing changes.
    for _ in 0..3 {
        let Ok(list) = r.out.edits.resolve(src) else {
            break;
        };
        if list.is_empty() {
            break;
        }
        let more = tidy::tidy(src, ast, &list, target);
        let before = list.len();
        for e in more {
            r.out.edits.replace(e.range, e.text);
        }
        if r.out.edits.resolve(src).map_or(true, |l| l.len() == before) {
            break;
        }
    }
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
}

/// Whether `text` names the environment variable `var` (not a longer one).
fn names_var(text: &str, var: &str) -> bool {
    text.match_indices(var).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + var.len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !word(before) && !word(after)
    })
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
        self.slot(&c.body);
        self.pop_scope();
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.visit_expr(&c.func);
        for a in &c.args {
            self.slot(a);
        }
    }

    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        if let Some(e) = &r.expr {
            self.slot(e);
        }
    }

    fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
        self.slot(&f.expr);
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
        let name = &self.target.name;
        if v == *name
            || names_var(&v, &flags_manifest::env_var(name))
            || names_var(&v, &flags_manifest::static_env_var(name))
        {
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

#[cfg(test)]
mod var_tests {
    #[test]
    fn environment_variables_are_matched_whole() {
        assert!(super::names_var("FLAGS_SEARCH=on", "FLAGS_SEARCH"));
        assert!(!super::names_var("FLAGS_SEARCH_V2=on", "FLAGS_SEARCH"));
        assert!(!super::names_var("XFLAGS_SEARCH", "FLAGS_SEARCH"));
    }
}
