//! Control flow: statements, `let`s, and the `if`s and `match`es a known value
//! decides, replaced by the kept branch or arm in the way their place allows.

use std::ops::Range;

use flags_manifest::Value;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Pat, Stmt};

use super::super::edits::Lines;
use super::{Binding, Ctx, Item, Rewriter, atomic, block_like, ident_str, pure};

impl Rewriter<'_> {
    /// An expression in a place any expression can stand in ([`Ctx::Let`]).
    pub(super) fn slot(&mut self, e: &Expr) {
        match e {
            Expr::If(i) => self.if_expr(i, Ctx::Let),
            Expr::Match(m) => self.match_expr(m, Ctx::Let),
            _ => self.visit_expr(e),
        }
    }

    pub(super) fn stmt(&mut self, s: &Stmt, last: bool) {
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
    pub(super) fn is_override_stmt(&self, e: &Expr) -> bool {
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

    pub(super) fn delete_stmt(&mut self, range: Range<usize>) {
        let whole = self.lines.whole_lines(range.start, range.end);
        self.out.edits.delete(whole);
    }

    pub(super) fn local(&mut self, l: &syn::Local) {
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

    pub(super) fn if_expr(&mut self, i: &syn::ExprIf, ctx: Ctx) {
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
    pub(super) fn remove(&mut self, whole: Range<usize>, ctx: Ctx) {
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
    pub(super) fn keep_block(&mut self, whole: Range<usize>, block: &syn::Block, ctx: Ctx) {
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

    pub(super) fn match_expr(&mut self, m: &syn::ExprMatch, ctx: Ctx) {
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
    fn walk(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Literal(l) => {
                let s = l.span();
                s.start().line != s.end().line
            }
            proc_macro2::TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    let text = lines.text(lines.range(block.span()));
    text.contains('\n') && text.parse::<proc_macro2::TokenStream>().map_or(true, walk)
}
