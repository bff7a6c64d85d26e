//! The manifest's rules as Rust data: every [`Rules`] value the parser built becomes
//! an expression that builds the same value, so the runtime compiles the rules
//! without parsing the manifest again.
//!
//! Paths go through the runtime's `__private` re-exports (`manifest`, `String`,
//! `Vec`) and `::core`, as everywhere in the generated code.

use flags_manifest::{
    Constraint, LayerPrerequisite, Operator, ParentRules, PayloadKind, Pos, Rules, Stickiness,
    Strategy, StrategyKind, Value, VariantPayload, WeightedVariant,
};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

/// Paths the emitted expressions use.
pub(crate) struct Paths {
    rt: TokenStream,
    m: TokenStream,
}

impl Paths {
    pub(crate) fn new(rt: &TokenStream) -> Paths {
        Paths {
            rt: rt.clone(),
            m: quote!(#rt::manifest),
        }
    }

    /// An expression of type `Rules`.
    pub(crate) fn rules(&self, r: &Rules) -> TokenStream {
        let m = &self.m;
        let enabled = option(r.enabled.map(|b| quote!(#b)));
        let value = option(r.value.map(|v| self.value(v)));
        let strategies = self.list(r.strategies.iter().map(|s| self.strategy(s)));
        let variants = self.list(r.variants.iter().map(|v| self.variant(v)));
        let stickiness = self.stickiness(&r.variant_stickiness);
        let prerequisites = self.list(r.prerequisites.iter().map(|p| self.prerequisite(p)));
        quote! {
            #m::Rules {
                enabled: #enabled,
                value: #value,
                strategies: #strategies,
                variants: #variants,
                variant_stickiness: #stickiness,
                prerequisites: #prerequisites,
            }
        }
    }

    fn list(&self, items: impl Iterator<Item = TokenStream>) -> TokenStream {
        let rt = &self.rt;
        let items: Vec<TokenStream> = items.collect();
        if items.is_empty() {
            quote!(#rt::Vec::new())
        } else {
            quote!(#rt::Vec::from([#(#items),*]))
        }
    }

    fn string(&self, s: &str) -> TokenStream {
        let rt = &self.rt;
        quote!(#rt::String::from(#s))
    }

    fn value(&self, v: Value) -> TokenStream {
        let m = &self.m;
        match v {
            Value::Bool(b) => quote!(#m::Value::Bool(#b)),
            Value::Variant(i) => {
                let i = Literal::u16_unsuffixed(i);
                quote!(#m::Value::Variant(#i))
            }
        }
    }

    fn strategy(&self, s: &Strategy) -> TokenStream {
        let m = &self.m;
        let kind = match &s.kind {
            StrategyKind::All => quote!(#m::StrategyKind::All),
            StrategyKind::Keys(keys) => {
                let keys = self.list(keys.iter().map(|k| self.string(k)));
                quote!(#m::StrategyKind::Keys(#keys))
            }
            StrategyKind::Rollout {
                percent,
                stickiness,
                group_id,
            } => {
                let percent = Literal::u8_unsuffixed(*percent);
                let stickiness = self.stickiness(stickiness);
                let group_id = self.string(group_id);
                quote!(#m::StrategyKind::Rollout {
                    percent: #percent,
                    stickiness: #stickiness,
                    group_id: #group_id,
                })
            }
        };
        let constraints = self.list(s.constraints.iter().map(|c| self.constraint(c)));
        let variants = self.list(s.variants.iter().map(|v| self.variant(v)));
        let stickiness = self.stickiness(&s.variant_stickiness);
        let pos = self.pos(&s.pos);
        quote! {
            #m::Strategy {
                kind: #kind,
                constraints: #constraints,
                variants: #variants,
                variant_stickiness: #stickiness,
                pos: #pos,
            }
        }
    }

    fn stickiness(&self, s: &Stickiness) -> TokenStream {
        let m = &self.m;
        match s {
            Stickiness::Default => quote!(#m::Stickiness::Default),
            Stickiness::Key => quote!(#m::Stickiness::Key),
            Stickiness::Random => quote!(#m::Stickiness::Random),
            Stickiness::Attribute(a) => {
                let a = self.string(a);
                quote!(#m::Stickiness::Attribute(#a))
            }
        }
    }

    fn variant(&self, v: &WeightedVariant) -> TokenStream {
        let m = &self.m;
        let index = Literal::u16_unsuffixed(v.variant);
        let name = self.string(&v.name);
        let weight = Literal::u32_unsuffixed(v.weight);
        let payload = option(v.payload.as_ref().map(|p| self.payload(p)));
        quote! {
            #m::WeightedVariant {
                variant: #index,
                name: #name,
                weight: #weight,
                payload: #payload,
            }
        }
    }

    fn payload(&self, p: &VariantPayload) -> TokenStream {
        let m = &self.m;
        let kind = match p.kind {
            PayloadKind::String => quote!(String),
            PayloadKind::Json => quote!(Json),
            PayloadKind::Csv => quote!(Csv),
            PayloadKind::Number => quote!(Number),
        };
        let value = self.string(&p.value);
        quote!(#m::VariantPayload { kind: #m::PayloadKind::#kind, value: #value })
    }

    fn constraint(&self, c: &Constraint) -> TokenStream {
        let m = &self.m;
        let attribute = self.string(&c.attribute);
        let operator = operator(c.operator);
        let values = self.list(c.values.iter().map(|v| self.string(v)));
        let inverted = c.inverted;
        let case_insensitive = c.case_insensitive;
        quote! {
            #m::Constraint {
                attribute: #attribute,
                operator: #m::Operator::#operator,
                values: #values,
                inverted: #inverted,
                case_insensitive: #case_insensitive,
            }
        }
    }

    fn prerequisite(&self, p: &LayerPrerequisite) -> TokenStream {
        let m = &self.m;
        let rt = &self.rt;
        let flag = self.string(&p.flag);
        let enabled = p.enabled;
        let variants = self.list(p.variants.iter().map(|v| self.string(v)));
        let parent = option(p.parent.as_deref().map(|parent| {
            let ParentRules {
                variants,
                rules,
                variant_rules,
            } = parent;
            let variants = self.list(variants.iter().map(|v| self.string(v)));
            let rules = self.rules(rules);
            let variant_rules = option(variant_rules.as_ref().map(|r| self.rules(r)));
            quote! {
                #rt::Box::new(#m::ParentRules {
                    variants: #variants,
                    rules: #rules,
                    variant_rules: #variant_rules,
                })
            }
        }));
        quote! {
            #m::LayerPrerequisite {
                flag: #flag,
                enabled: #enabled,
                variants: #variants,
                parent: #parent,
            }
        }
    }

    fn pos(&self, p: &Pos) -> TokenStream {
        let m = &self.m;
        let start = Literal::usize_unsuffixed(p.span.start);
        let end = Literal::usize_unsuffixed(p.span.end);
        let line = Literal::usize_unsuffixed(p.line);
        let col = Literal::usize_unsuffixed(p.col);
        quote!(#m::Pos { span: #start..#end, line: #line, col: #col })
    }
}

fn option(v: Option<TokenStream>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn operator(op: Operator) -> TokenStream {
    match op {
        Operator::In => quote!(In),
        Operator::NotIn => quote!(NotIn),
        Operator::StrContains => quote!(StrContains),
        Operator::StrStartsWith => quote!(StrStartsWith),
        Operator::StrEndsWith => quote!(StrEndsWith),
        Operator::NumEq => quote!(NumEq),
        Operator::NumGt => quote!(NumGt),
        Operator::NumGte => quote!(NumGte),
        Operator::NumLt => quote!(NumLt),
        Operator::NumLte => quote!(NumLte),
        Operator::DateAfter => quote!(DateAfter),
        Operator::DateBefore => quote!(DateBefore),
        Operator::SemverEq => quote!(SemverEq),
        Operator::SemverGt => quote!(SemverGt),
        Operator::SemverLt => quote!(SemverLt),
        Operator::SemverGte => quote!(SemverGte),
        Operator::SemverLte => quote!(SemverLte),
        Operator::Regex => quote!(Regex),
        Operator::InCidr => quote!(InCidr),
    }
}
