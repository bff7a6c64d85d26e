//! Items and attributes: gated functions and the implementations they lose, matrix
//! test attributes, `use` items of the flag's generated names, and macro calls (whose
//! arguments are rewritten when they parse as expressions, and reported otherwise).

use std::ops::Range;

use proc_macro2::{Spacing, TokenStream, TokenTree};
use syn::visit::Visit;
use syn::{Expr, Token};

use super::{Item, Rewriter, ident_str};
use crate::retire::gates::{GateAction, gate_sides, split_args};

/// Macros whose arguments are expressions (after an optional format string).
const EXPR_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "write",
    "writeln",
    "panic",
    "dbg",
    "vec",
    "todo",
    "unimplemented",
    "unreachable",
];

impl Rewriter<'_> {
    /// Deletes an item with its attributes, and a blank line it leaves doubled.
    fn delete_item(&mut self, item: Range<usize>) {
        let whole = self.lines.item_lines(item.start, item.end);
        self.out.edits.delete(whole);
    }

    fn delete_attr(&mut self, attr: &syn::Attribute) {
        let r = self.r(attr);
        let whole = self.lines.whole_lines(r.start, r.end);
        self.out.edits.delete(whole);
    }

    /// A function's attributes: `true` when the function was removed or its body
    /// replaced, so it is not to be visited.
    pub(super) fn fn_item(
        &mut self,
        attrs: &[syn::Attribute],
        block: &syn::Block,
        item: Range<usize>,
        sig: &syn::Signature,
    ) -> bool {
        if self.plan.remove.contains(&(self.file, item.start)) {
            self.delete_item(item.clone());
            self.note(
                item.start,
                format!("removed `{}`: no longer referenced", sig.ident),
            );
            return true;
        }
        let mut replaced = false;
        for attr in attrs {
            let start = self.r(attr).start;
            if gate_sides(attr, self.target).is_some() {
                match self.plan.gates.get(&(self.file, start)).cloned() {
                    Some(GateAction::RemoveAttribute) => self.delete_attr(attr),
                    Some(GateAction::MoveBody { body, from }) => {
                        self.delete_attr(attr);
                        let range = self.r(block);
                        self.out.edits.replace(range, body);
                        self.note(
                            start,
                            format!("moved the body of `{from}` into `{}`", sig.ident),
                        );
                        replaced = true;
                    }
                    Some(GateAction::Call { body, callee, why }) => {
                        self.delete_attr(attr);
                        let range = self.r(block);
                        self.out.edits.replace(range, body);
                        self.note(
                            start,
                            format!(
                                "`{}` now calls `{callee}` rather than taking its body: {why}",
                                sig.ident
                            ),
                        );
                        replaced = true;
                    }
                    Some(GateAction::Human(reason)) => self.human(start, reason),
                    None => self.human(start, "a gate the first pass did not see"),
                }
            } else if is_matrix(attr) {
                self.matrix_attr(attr, attrs);
            }
        }
        replaced
    }

    fn matrix_attr(&mut self, attr: &syn::Attribute, attrs: &[syn::Attribute]) {
        let syn::Meta::List(list) = &attr.meta else {
            return;
        };
        let args = split_args(list.tokens.clone());
        let mut case = false;
        let mut list_group = None;
        for arg in &args {
            match arg.as_slice() {
                [
                    TokenTree::Ident(k),
                    TokenTree::Punct(p),
                    TokenTree::Ident(v),
                ] if k == "case" && p.as_char() == '=' => {
                    case = true;
                    self.case_names.push(ident_str(v));
                }
                [
                    TokenTree::Ident(k),
                    TokenTree::Punct(p),
                    TokenTree::Group(g),
                ] if p.as_char() == '=' => {
                    if k == "flags" {
                        list_group = Some(g.clone());
                    } else if k == "rules" && mentions_name(g.stream(), &self.target.name) {
                        let at = self.range(g.span()).start;
                        self.human(at, "a matrix rule names the flag in a string");
                    }
                }
                _ => {}
            }
        }
        let Some(group) = list_group else {
            return;
        };
        let elems = split_args(group.stream());
        let ranges: Vec<Range<usize>> = elems
            .iter()
            .map(|e| {
                let start = e.first().map_or(0, |t| self.range(t.span()).start);
                let end = e.last().map_or(0, |t| self.range(t.span()).end);
                start..end
            })
            .collect();
        let ours: Vec<usize> = elems
            .iter()
            .enumerate()
            .filter(|(_, e)| match e.as_slice() {
                [TokenTree::Ident(i)] => self.target.is_named(&ident_str(i)),
                [TokenTree::Literal(l)] => {
                    syn::parse2::<syn::LitStr>(TokenTree::Literal(l.clone()).into())
                        .is_ok_and(|s| self.target.is_named(&s.value()))
                }
                _ => false,
            })
            .map(|(i, _)| i)
            .collect();
        if ours.is_empty() {
            return;
        }
        if ours.len() < elems.len() {
            self.remove_ranges_from_list(&ranges, &ours);
            return;
        }
        let start = self.r(attr).start;
        if case {
            self.human(
                start,
                "the matrix test binds its case and varies no other flag: make it a plain test",
            );
            return;
        }
        let has_test = attrs
            .iter()
            .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "test"));
        if has_test {
            self.delete_attr(attr);
        } else {
            let r = self.r(attr);
            self.out.edits.replace(r, "#[test]");
        }
        self.note(
            start,
            "the matrix varied only this flag: now a plain test".to_owned(),
        );
    }

    pub(super) fn use_item(&mut self, u: &syn::ItemUse) {
        let mut edits = Vec::new();
        if self.use_removal(&u.tree, &mut Vec::new(), &mut edits) {
            let r = self.r(u);
            self.delete_item(r);
        } else {
            for e in edits {
                self.out.edits.delete(e);
            }
        }
    }

    /// Whether the whole tree goes; otherwise, the ranges to delete in it.
    fn use_removal(
        &mut self,
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        edits: &mut Vec<Range<usize>>,
    ) -> bool {
        let t = self.target;
        let under_module = |p: &[String]| p.iter().any(|s| t.modules.contains(s));
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(ident_str(&p.ident));
                let all = self.use_removal(&p.tree, prefix, edits);
                prefix.pop();
                all
            }
            syn::UseTree::Name(syn::UseName { ident })
            | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
                let name = ident_str(ident);
                let generated =
                    (name == t.accessor || name == t.handle || Some(&name) == t.enum_ty.as_ref())
                        && under_module(prefix);
                let variant = prefix.last() == t.enum_ty.as_ref();
                let gate_import =
                    name == "feature_gate" && self.gates_left == 0 && self.has_our_gates;
                generated || variant || gate_import
            }
            syn::UseTree::Glob(_) => prefix.last() == t.enum_ty.as_ref(),
            syn::UseTree::Group(g) => {
                let items: Vec<&syn::UseTree> = g.items.iter().collect();
                let mut gone = Vec::new();
                let mut inner = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    if self.use_removal(item, prefix, &mut inner) {
                        gone.push(i);
                    }
                }
                if !items.is_empty() && gone.len() == items.len() {
                    return true;
                }
                edits.extend(inner);
                let ranges: Vec<Range<usize>> = items.iter().map(|i| self.r(*i)).collect();
                for &i in &gone {
                    let this = ranges[i].clone();
                    if let Some(next) = ranges.get(i + 1) {
                        edits.push(this.start..next.start);
                    } else if i > 0 {
                        edits.push(ranges[i - 1].end..this.end);
                    }
                }
                false
            }
        }
    }

    pub(super) fn macro_call(&mut self, m: &syn::Macro) {
        let Some(name) = m.path.segments.last().map(|s| ident_str(&s.ident)) else {
            return;
        };
        if name == "flags" {
            return;
        }
        if EXPR_MACROS.contains(&name.as_str())
            && let Ok(args) =
                m.parse_body_with(syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated)
        {
            // Names captured in a format string (`{enabled}`) are uses too.
            if let Some(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) = args.iter().find(|a| matches!(a, Expr::Lit(_)))
            {
                let text = s.value();
                for scope in &mut self.scopes {
                    for b in scope.iter_mut() {
                        if b.value.is_some()
                            && (text.contains(&format!("{{{}}}", b.name))
                                || text.contains(&format!("{{{}:", b.name)))
                        {
                            b.failed = true;
                        }
                    }
                }
            }
            for a in &args {
                self.visit_expr(a);
            }
            return;
        }
        self.opaque_tokens(m.tokens.clone(), &name);
    }

    /// Tokens of a macro the pass cannot see into: report uses of the flag, and keep
    /// any `let` bound to the flag whose name appears.
    fn opaque_tokens(&mut self, tokens: TokenStream, mac: &str) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    self.opaque_tokens(g.stream(), mac);
                    i += 1;
                }
                TokenTree::Ident(first) => {
                    let mut segs = vec![first.clone()];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':'
                        {
                            break;
                        }
                        segs.push(next.clone());
                        j += 3;
                    }
                    let path = syn::Path {
                        leading_colon: None,
                        segments: segs
                            .iter()
                            .map(|s| syn::PathSegment::from(s.clone()))
                            .collect(),
                    };
                    if let Some(item) = self.classify(&path) {
                        let at = self.range(first.span()).start;
                        let what = match item {
                            Item::Accessor | Item::Handle => "the flag is read",
                            _ => "the flag's enum is used",
                        };
                        self.human(
                            at,
                            format!(
                                "{what} inside `{mac}!`, whose input cannot be rewritten safely"
                            ),
                        );
                    } else if segs.len() == 1
                        && let Some(b) = self.binding(&ident_str(first))
                        && b.value.is_some()
                    {
                        b.failed = true;
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
}

fn is_matrix(attr: &syn::Attribute) -> bool {
    let segs: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    matches!(segs.as_slice(), [m] if m == "matrix")
        || matches!(segs.as_slice(), [c, m] if c == "flags_test" && m == "matrix")
}

fn mentions_name(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|t| match t {
        TokenTree::Literal(l) => syn::parse2::<syn::LitStr>(TokenTree::Literal(l).into())
            .is_ok_and(|s| {
                s.value()
                    .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                    .any(|w| w == name)
            }),
        TokenTree::Group(g) => mentions_name(g.stream(), name),
        _ => false,
    })
}
