//! The first pass over the workspace: every `#[feature_gate]` on the retired flag, every
//! function definition its sides name, and how often each identifier occurs, so the
//! second pass knows which implementations lose their last reference (removed), and
//! whether keeping another side moves that side's body into the gated function or
//! makes it call that side.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use flags_manifest::Value;
use proc_macro2::{TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use super::edits::Lines;
use super::target::Target;

/// A function definition: where it is and what its body and parameters are.
#[derive(Clone, Debug)]
pub struct FnDef {
    /// The file, as an index into the workspace's files.
    pub file: usize,
    /// The whole item, attributes and doc comments included.
    pub item: Range<usize>,
    /// The body, braces included.
    pub body: Range<usize>,
    /// The parameters as tokens, for comparing signatures.
    pub params: String,
    /// Whether it is an `async fn`.
    pub is_async: bool,
    /// The type of the `impl` block it is in (`Index`), or `trait Name`, if any.
    pub owner: Option<String>,
}

/// What the second pass does with one gated function.
#[derive(Clone, Debug)]
pub enum GateAction {
    /// The annotated body is kept: remove the attribute.
    RemoveAttribute,
    /// Replace the body with this text (the kept side's body, moved here).
    MoveBody {
        /// The new body, braces included.
        body: String,
        /// The function it came from.
        from: String,
    },
    /// Replace the body with a call of the kept side.
    Call {
        /// The new body, braces included.
        body: String,
        /// The function called.
        callee: String,
        /// Why its body was not moved instead.
        why: String,
    },
    /// Left alone.
    Human(String),
}

/// The decisions of the first pass.
#[derive(Debug, Default)]
pub struct Plan {
    /// Gated functions by (file, byte offset of the attribute).
    pub gates: HashMap<(usize, usize), GateAction>,
    /// Function items to remove, by (file, byte offset of the item).
    pub remove: HashSet<(usize, usize)>,
    /// Names of the functions removed, for the report.
    pub removed_names: Vec<String>,
}

/// One gate on the retired flag, as written.
struct Gate {
    file: usize,
    attr: usize,
    attr_tokens: TokenStream,
    fn_name: String,
    in_impl: bool,
    /// The type of the `impl` block it is in, or `trait Name`, if any.
    owner: Option<String>,
    receiver: bool,
    is_async: bool,
    is_unsafe: bool,
    params: String,
    args: Option<Vec<String>>,
    indent: String,
    /// Each side's value and the path of its implementation (`None`: the annotated
    /// function itself).
    sides: Vec<Side>,
    problem: Option<String>,
}

/// What the first pass gathers from every file.
#[derive(Default)]
pub struct Gathered {
    idents: HashMap<String, usize>,
    defs: HashMap<String, Vec<FnDef>>,
    gates: Vec<Gate>,
}

impl Gathered {
    /// Adds one file's source (already known to parse).
    pub fn add(&mut self, file: usize, src: &str, ast: &syn::File, target: &Target) {
        if let Ok(tokens) = src.parse::<TokenStream>() {
            count_idents(tokens, &mut self.idents);
        }
        let lines = Lines::new(src);
        let mut walk = Walk {
            file,
            lines: &lines,
            target,
            out: self,
            owner: None,
        };
        walk.visit_file(ast);
    }

    /// Decides every gate.
    pub fn plan(self, keep: Value, sources: &[String]) -> Plan {
        let mut plan = Plan::default();
        let mentions = |name: &str| {
            self.gates
                .iter()
                .map(|g| {
                    let mut counts = HashMap::new();
                    count_idents(g.attr_tokens.clone(), &mut counts);
                    counts.get(name).copied().unwrap_or(0)
                })
                .sum::<usize>()
        };
        // Referenced outside its definitions and the gates on this flag.
        let referenced = |name: &str| {
            let defs = self.defs.get(name).map_or(0, Vec::len);
            self.idents.get(name).copied().unwrap_or(0) > defs + mentions(name)
        };
        // The definition a gate's side names: the one function of that name, or for a
        // method, the one of that name in an `impl` of the same type in the same file.
        let def_for = |g: &Gate, name: &str| -> Option<&FnDef> {
            let defs = self.defs.get(name)?;
            if g.owner.is_some() {
                let mut same = defs
                    .iter()
                    .filter(|d| d.file == g.file && d.owner == g.owner);
                if let (Some(one), None) = (same.next(), same.next()) {
                    return Some(one);
                }
            }
            match defs.as_slice() {
                [one] => Some(one),
                _ => None,
            }
        };
        // How many gates keep each implementation: one kept by several gates stays
        // (they call it), and one kept anywhere is never removed as another side.
        let mut kept_by: HashMap<String, usize> = HashMap::new();
        for g in &self.gates {
            if g.problem.is_none()
                && let Some((_, Some(path))) = g.sides.iter().find(|(v, _)| *v == keep)
            {
                *kept_by.entry(last_ident(path)).or_default() += 1;
            }
        }
        for g in &self.gates {
            let key = (g.file, g.attr);
            if let Some(problem) = &g.problem {
                plan.gates.insert(key, GateAction::Human(problem.clone()));
                continue;
            }
            let Some((_, kept_path)) = g.sides.iter().find(|(v, _)| *v == keep) else {
                plan.gates.insert(
                    key,
                    GateAction::Human(
                        "the gate names no implementation of the kept side".to_owned(),
                    ),
                );
                continue;
            };
            // The other sides' implementations go when nothing else names them.
            for (v, path) in &g.sides {
                let Some(path) = path else { continue };
                if *v == keep {
                    continue;
                }
                let name = last_ident(path);
                if let Some(def) = def_for(g, &name)
                    && !referenced(&name)
                    && !kept_by.contains_key(&name)
                {
                    plan.remove.insert((def.file, def.item.start));
                    plan.removed_names.push(name);
                }
            }
            let Some(path) = kept_path else {
                plan.gates.insert(key, GateAction::RemoveAttribute);
                continue;
            };
            let name = last_ident(path);
            let movable = def_for(g, &name).filter(|d| {
                !referenced(&name)
                    && kept_by.get(&name) == Some(&1)
                    && d.file == g.file
                    && d.params == g.params
                    && d.is_async == g.is_async
            });
            if let Some(def) = movable {
                let body = sources[def.file][def.body.clone()].to_owned();
                plan.remove.insert((def.file, def.item.start));
                plan.removed_names.push(name.clone());
                plan.gates.insert(
                    key,
                    GateAction::MoveBody {
                        body: reindent(&body, &sources[def.file], def.body.start, &g.indent),
                        from: name,
                    },
                );
                continue;
            }
            let why = match def_for(g, &name) {
                None => "it is defined more than once, or not in the scanned files",
                Some(_) if referenced(&name) => "it is still called elsewhere",
                Some(_) if kept_by.get(&name).is_some_and(|n| *n > 1) => "other gates keep it too",
                Some(d) if d.file != g.file => "it is defined in another file",
                Some(d) if d.is_async != g.is_async => "one of the two is async",
                Some(_) => "its parameters are written differently",
            }
            .to_owned();
            let Some(args) = &g.args else {
                plan.gates.insert(
                    key,
                    GateAction::Human(format!(
                        "keeping `{}` needs a call with the parameters of `{}`, which are \
                         patterns rather than names",
                        path_text(path),
                        g.fn_name
                    )),
                );
                continue;
            };
            let mut callee = path_text(path);
            let mut all_args = args.clone();
            if g.in_impl && !callee.contains("::") {
                callee = format!("Self::{callee}");
            }
            if g.receiver {
                all_args.insert(0, "self".to_owned());
            }
            let await_ = if g.is_async { ".await" } else { "" };
            let call = format!("{callee}({}){await_}", all_args.join(", "));
            // In an `unsafe fn` the call of another needs its own `unsafe` block.
            let call = if g.is_unsafe {
                format!(
                    "// SAFETY: the caller upholds `{}`'s contract, which is `{name}`'s.\n{}    unsafe {{ {call} }}",
                    g.fn_name, g.indent
                )
            } else {
                call
            };
            let body = format!("{{\n{}    {call}\n{}}}", g.indent, g.indent);
            plan.gates
                .insert(key, GateAction::Call { body, callee, why });
        }
        plan.removed_names.sort();
        plan.removed_names.dedup();
        plan
    }
}

/// A body moved from one function into another, re-indented from the indentation of
/// its old line to `indent`.
fn reindent(body: &str, src: &str, at: usize, indent: &str) -> String {
    let lines = Lines::new(src);
    let old = lines.indent(at);
    if old == indent {
        return body.to_owned();
    }
    let mut out = String::with_capacity(body.len());
    for (i, line) in body.split_inclusive('\n').enumerate() {
        match line.strip_prefix(old) {
            Some(rest) if i > 0 && !line.trim().is_empty() => {
                out.push_str(indent);
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn count_idents(tokens: TokenStream, counts: &mut HashMap<String, usize>) {
    for t in tokens {
        match t {
            TokenTree::Ident(i) => {
                let s = i.to_string();
                let s = s.strip_prefix("r#").map(str::to_owned).unwrap_or(s);
                *counts.entry(s).or_default() += 1;
            }
            TokenTree::Group(g) => count_idents(g.stream(), counts),
            _ => {}
        }
    }
}

fn last_ident(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// A path as written, without spaces.
pub fn path_text(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// One side of a gate: its value and the path of its implementation (`None`: the
/// annotated function itself).
pub type Side = (Value, Option<syn::Path>);

/// The flag and sides of a `#[feature_gate(..)]` attribute on the retired flag, or
/// `None` when it gates another flag.
pub fn gate_sides(attr: &syn::Attribute, target: &Target) -> Option<Result<Vec<Side>, String>> {
    if attr.path().segments.last()?.ident != "feature_gate" {
        return None;
    }
    let syn::Meta::List(list) = &attr.meta else {
        return None;
    };
    let args = split_args(list.tokens.clone());
    let first = args.first()?;
    let flag_tokens: &[TokenTree] = match first.as_slice() {
        [TokenTree::Ident(k), TokenTree::Punct(p), rest @ ..]
            if k == "flag" && p.as_char() == '=' =>
        {
            rest
        }
        all => all,
    };
    let name = match flag_tokens {
        [TokenTree::Ident(i)] => i.to_string(),
        [TokenTree::Literal(l)] => syn::parse2::<syn::LitStr>(TokenTree::Literal(l.clone()).into())
            .ok()?
            .value(),
        _ => return None,
    };
    if !target.is_named(&name) {
        return None;
    }
    let mut sides: Vec<Side> = Vec::new();
    let mut annotated: Option<Value> = None;
    for arg in &args[1..] {
        let (key, value) = match arg.as_slice() {
            [k, TokenTree::Punct(p), rest @ ..] if p.as_char() == '=' => (k, rest),
            _ => continue,
        };
        let key = match key {
            TokenTree::Ident(i) => i.to_string(),
            TokenTree::Literal(l) => {
                match syn::parse2::<syn::LitStr>(TokenTree::Literal(l.clone()).into()) {
                    Ok(s) => s.value(),
                    Err(_) => continue,
                }
            }
            _ => continue,
        };
        let value: TokenStream = value.iter().cloned().collect();
        match key.as_str() {
            "fallback" => match syn::parse2::<syn::Path>(value) {
                Ok(p) => sides.push((Value::Bool(false), Some(p))),
                Err(_) => return Some(Err("a fallback that is not a path".to_owned())),
            },
            "variant" => {
                let Ok(lit) = syn::parse2::<syn::LitStr>(value) else {
                    return Some(Err("a variant that is not a string".to_owned()));
                };
                match target.variant_of_name(&lit.value()) {
                    Some(i) => annotated = Some(Value::Variant(i)),
                    None => return Some(Err(format!("unknown variant `{}`", lit.value()))),
                }
            }
            "context" | "module" | "manifest" | "trace" | "measure" => {}
            other => {
                let Some(i) = target.variant_of_name(other) else {
                    return Some(Err(format!("unknown variant `{other}`")));
                };
                match syn::parse2::<syn::Path>(value) {
                    Ok(p) => sides.push((Value::Variant(i), Some(p))),
                    Err(_) => return Some(Err("a route that is not a path".to_owned())),
                }
            }
        }
    }
    if target.enum_ty.is_none() {
        sides.push((Value::Bool(true), None));
    } else {
        // Without `variant = ..`, the function's own body is the default variant.
        sides.push((annotated.unwrap_or(target.default), None));
    }
    Some(Ok(sides))
}

/// An attribute's arguments, split at top-level commas.
pub fn split_args(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut out = vec![Vec::new()];
    for t in tokens {
        match &t {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(Vec::new()),
            _ => {
                if let Some(last) = out.last_mut() {
                    last.push(t);
                }
            }
        }
    }
    out.retain(|a| !a.is_empty());
    out
}

/// The parameters of a signature as simple names, or `None` when one is a pattern.
fn param_names(sig: &syn::Signature) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(_) => {}
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(i) if i.by_ref.is_none() && i.subpat.is_none() => {
                    out.push(i.ident.to_string());
                }
                _ => return None,
            },
        }
    }
    Some(out)
}

/// The parameters as written, without whitespace: equal texts are equal signatures.
fn params_text(sig: &syn::Signature, lines: &Lines<'_>) -> String {
    let mut out = String::new();
    for input in &sig.inputs {
        let text = lines.text(lines.range(input.span()));
        out.extend(text.chars().filter(|c| !c.is_whitespace()));
        out.push(',');
    }
    out
}

struct Walk<'a> {
    file: usize,
    lines: &'a Lines<'a>,
    target: &'a Target,
    out: &'a mut Gathered,
    owner: Option<String>,
}

impl Walk<'_> {
    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: &syn::Block,
        item: Range<usize>,
    ) {
        let name = sig.ident.to_string();
        let body = self.lines.range(block.span());
        self.out.defs.entry(name.clone()).or_default().push(FnDef {
            file: self.file,
            item: item.clone(),
            body: body.clone(),
            params: params_text(sig, self.lines),
            is_async: sig.asyncness.is_some(),
            owner: self.owner.clone(),
        });
        for attr in attrs {
            let Some(sides) = gate_sides(attr, self.target) else {
                continue;
            };
            let syn::Meta::List(list) = &attr.meta else {
                continue;
            };
            let (sides, problem) = match sides {
                Ok(s) => (s, None),
                Err(p) => (Vec::new(), Some(p)),
            };
            self.out.gates.push(Gate {
                file: self.file,
                attr: self.lines.range(attr.span()).start,
                attr_tokens: list.tokens.clone(),
                fn_name: name.clone(),
                in_impl: self.owner.is_some(),
                owner: self.owner.clone(),
                receiver: sig.receiver().is_some(),
                is_async: sig.asyncness.is_some(),
                is_unsafe: sig.unsafety.is_some(),
                params: params_text(sig, self.lines),
                args: param_names(sig),
                indent: self.lines.indent(item.start).to_owned(),
                sides,
                problem,
            });
        }
    }
}

impl<'ast> Visit<'ast> for Walk<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let item = self.lines.range(f.span());
        self.function(&f.attrs, &f.sig, &f.block, item);
        let outer = self.owner.take();
        visit::visit_item_fn(self, f);
        self.owner = outer;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let item = self.lines.range(f.span());
        self.function(&f.attrs, &f.sig, &f.block, item);
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            let item = self.lines.range(f.span());
            self.function(&f.attrs, &f.sig, block, item);
        }
        visit::visit_trait_item_fn(self, f);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let ty: String = self
            .lines
            .text(self.lines.range(i.self_ty.span()))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let outer = self.owner.replace(ty);
        visit::visit_item_impl(self, i);
        self.owner = outer;
    }

    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        let outer = self.owner.replace(format!("trait {}", i.ident));
        visit::visit_item_trait(self, i);
        self.owner = outer;
    }
}
