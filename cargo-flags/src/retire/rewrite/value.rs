//! Values: which expressions read the retired flag, how known values fold through
//! operators and patterns, and how a known value left over becomes its literal.

use std::ops::Range;

use flags_manifest::Value;
use syn::visit::{self, Visit};
use syn::{Expr, Pat};

use super::{Ctx, Item, Rewriter, ident_str, pure};

impl Rewriter<'_> {
    /// A known value where an expression of its type is expected: its literal.
    pub(super) fn emit_value(&mut self, e: &Expr, v: Value) {
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
    pub(super) fn pat_matches(&self, pat: &Pat, v: Value) -> Option<bool> {
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
    pub(super) fn known(&mut self, e: &Expr) -> Option<Value> {
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
                // A static flag's handle is a const holding its value.
                if self.target.is_static && self.classify(&p.path) == Some(Item::Handle) {
                    return Some(keep);
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

    pub(super) fn method_call(&mut self, m: &syn::ExprMethodCall) -> Option<Value> {
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
        self.visit_expr(&m.receiver);
        for a in &m.args {
            self.slot(a);
        }
        None
    }

    /// Removes the elements at `indexes` of a comma-separated list, with their commas.
    pub(super) fn remove_list_items(&mut self, elems: &[&Expr], indexes: &[usize]) {
        let ranges: Vec<Range<usize>> = elems.iter().map(|e| self.r(*e)).collect();
        self.remove_ranges_from_list(&ranges, indexes);
    }

    pub(super) fn remove_ranges_from_list(&mut self, ranges: &[Range<usize>], indexes: &[usize]) {
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

    pub(super) fn binary(&mut self, b: &syn::ExprBinary) -> Option<Value> {
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
}
