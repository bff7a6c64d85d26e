//! Start-up: the state built on the first read, from the manifest's rules (emitted
//! as data by `flags!`, or parsed from a hand-written registry's text with the
//! `rule-files` feature) and the environment.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use flags_manifest::Rules;

use crate::bucket::BucketGroup;
use crate::eval::Prerequisite;
use crate::explain::Layer;
use crate::rules::CompiledRules;
use crate::snapshot::{SnapshotData, Statics};
use crate::source::EnvSource;
use crate::telemetry::Counters;

use super::cell::publish;
use super::layers::{LayerState, Writer, decisions};
use super::realised;
use super::report::Report;
use super::{Declared, NEXT_STATE, Registry, State};

impl Registry {
    pub(super) fn build_state(&self) -> (State, Vec<Report>) {
        let n = self.meta.len();
        let mut reports = Vec::new();
        let skipped = |problem: String| Report::Skipped {
            layer: Layer::Manifest,
            source: self.manifest_path.to_owned(),
            problem,
        };
        let variants_of = |i: usize| self.meta.get(i).map(|m| m.variants);
        let mut prerequisites = Vec::with_capacity(n);
        for m in self.meta {
            let mut list = Vec::new();
            for (refs, excludes) in [(m.requires, false), (m.excludes, true)] {
                for &r in refs {
                    match Prerequisite::from_requirement(r, excludes, variants_of) {
                        Ok(p) => list.push(p),
                        Err(problem) => reports.push(skipped(format!(
                            "flag `{}`: prerequisite: {problem}",
                            m.name
                        ))),
                    }
                }
            }
            prerequisites.push(list.into_boxed_slice());
        }
        let statics = Statics {
            meta: self.meta,
            prerequisites: prerequisites.into_boxed_slice(),
        };

        let mut layers: [LayerState; 6] = Layer::ALL.map(|l| LayerState::empty(l.as_str(), n));
        layers[Layer::Manifest.slot()].origin = Arc::from(self.manifest_path);
        let declared: Vec<(usize, Rules)> = match self.rules {
            Declared::Data(rules) => rules(),
            Declared::Packed(text) => match flags_manifest::packed::decode_rules(text) {
                Ok(rules) => rules,
                Err(e) => {
                    reports.push(Report::Rejected {
                        layer: Layer::Manifest,
                        source: self.manifest_path.to_owned(),
                        error: e.to_string(),
                    });
                    Vec::new()
                }
            },
            #[cfg(feature = "rule-files")]
            Declared::Text => self.rules_from_text(&mut reports),
        };
        for (i, rules) in declared {
            if i >= n {
                reports.push(skipped(format!(
                    "rules for flag #{i}, which does not exist"
                )));
                continue;
            }
            match CompiledRules::compile(&rules, statics.shape(i)) {
                Ok(rules) => layers[Layer::Manifest.slot()].rules[i] = rules.map(Arc::new),
                Err(e) => reports.push(Report::Rejected {
                    layer: Layer::Manifest,
                    source: self.manifest_path.to_owned(),
                    error: e.to_string(),
                }),
            }
        }

        // The environment, read once now.
        let (values, problems) = EnvSource::from_process().parse(self.meta);
        let check = std::env::var_os(realised::REPORT_VAR)
            .filter(|v| !v.is_empty())
            .map(|path| {
                let own: Vec<String> = problems
                    .iter()
                    .filter(|p| !p.foreign)
                    .map(ToString::to_string)
                    .collect();
                (path, values.clone(), own)
            });
        for p in problems {
            reports.push(Report::Skipped {
                layer: Layer::Env,
                source: "env".to_owned(),
                problem: p.to_string(),
            });
        }
        for (i, v) in values {
            match CompiledRules::fixed(v, statics.shape(i)) {
                Ok(r) => layers[Layer::Env.slot()].rules[i] = Some(Arc::new(r)),
                Err(e) => reports.push(Report::Skipped {
                    layer: Layer::Env,
                    source: "env".to_owned(),
                    problem: e.to_string(),
                }),
            }
        }

        let writer = Writer { layers };
        let data = SnapshotData::build(&statics, 0, decisions(&writer));
        if let Some((path, forced, problems)) = check {
            let lines = realised::unrealised(
                self.manifest_path,
                self.meta,
                &statics,
                &data,
                &forced,
                &problems,
            );
            realised::append(&path, &lines);
        }
        // Only the environment can move a flag away from the manifest at start-up; with
        // no flag set there, nothing changed and the manifest-only snapshot, as large
        // as the real one, is not built.
        let env_set = writer.layers[Layer::Env.slot()]
            .rules
            .iter()
            .any(Option::is_some);
        if env_set {
            let base = SnapshotData::build(
                &statics,
                0,
                decisions(&Writer {
                    layers: std::array::from_fn(|l| {
                        if l == Layer::Manifest.slot() {
                            writer.layers[l].clone()
                        } else {
                            LayerState::empty("", n)
                        }
                    }),
                }),
            );
            for i in base.changed(&data).collect::<Vec<_>>() {
                reports.push(Report::Changed {
                    flag: self.meta[i].name,
                    from: base.describe(i, &self.meta[i]),
                    to: data.describe(i, &self.meta[i]),
                    layer: data.slots[i].decision.layer(),
                    source: data.slots[i].origin.clone(),
                    generation: 0,
                });
            }
        }
        // Nobody else can see the state yet: publish without the lock. No scope,
        // counting or sampling can be on before the state exists.
        let sticky_groups: Box<[OnceLock<BucketGroup>]> = (0..n).map(|_| OnceLock::new()).collect();
        publish(self.cells, &data, &sticky_groups, true, false);
        let errors = reports
            .iter()
            .filter(|r| !matches!(r, Report::Changed { .. }))
            .count() as u64;
        let state = State {
            uid: NEXT_STATE.fetch_add(1, Ordering::Relaxed),
            statics,
            snapshot: Arc::new(ArcSwap::from_pointee(data)),
            writer: Mutex::new(writer),
            scopes: AtomicUsize::new(0),
            instrumented: AtomicBool::new(false),
            counting: AtomicBool::new(false),
            sticky_groups,
            exposure_one_in: AtomicU32::new(0),
            exposure_otel: AtomicBool::new(false),
            exposure_key: arc_swap::ArcSwapOption::empty(),
            counters: Counters::new(self.meta),
            errors: AtomicU64::new(errors),
            health: crate::source::HealthBook::default(),
            outcome_sinks: crate::outcome::Sinks::new(self.meta.len()),
        };
        (state, reports)
    }

    /// A hand-written registry's rules, from its manifest text: by name, each flag
    /// of the table taking its declaration's rules.
    #[cfg(feature = "rule-files")]
    pub(super) fn rules_from_text(&self, reports: &mut Vec<Report>) -> Vec<(usize, Rules)> {
        let manifest = match flags_manifest::parse_str(self.manifest_src, self.manifest_path) {
            Ok(m) => m,
            Err(e) => {
                reports.push(Report::Rejected {
                    layer: Layer::Manifest,
                    source: self.manifest_path.to_owned(),
                    error: e.to_string(),
                });
                return Vec::new();
            }
        };
        let by_name: std::collections::HashMap<&str, &flags_manifest::Flag> = manifest
            .flags
            .iter()
            .map(|f| (f.name.as_str(), f))
            .collect();
        let mut out = Vec::new();
        for (i, m) in self.meta.iter().enumerate() {
            match by_name.get(m.name) {
                Some(flag) => out.push((i, flag.rules.clone())),
                None => reports.push(Report::Skipped {
                    layer: Layer::Manifest,
                    source: self.manifest_path.to_owned(),
                    problem: format!("flag `{}` is not declared in the manifest text", m.name),
                }),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::meta::FlagMeta;
    use crate::registry::{FastCell, Registry};

    static META: [FlagMeta; 2] = [FlagMeta::bare("on", 0, &[]), FlagMeta::bare("off", 1, &[])];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];

    #[test]
    fn packed_rules_are_decoded_at_start() {
        static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
        let on = flags_manifest::Rules {
            value: Some(flags_manifest::Value::Bool(true)),
            ..flags_manifest::Rules::default()
        };
        let text = flags_manifest::packed::encode_rules([(0, &on)]);
        let registry: &'static Registry = Box::leak(Box::new(Registry::packed(
            &META,
            &CELLS,
            text.leak(),
            "",
            "flags.toml",
        )));
        assert_eq!(registry.error_count(), 0);
        assert_eq!(registry.value_at(0), crate::Value::Bool(true));
        assert_eq!(registry.value_at(1), crate::Value::Bool(false));
    }

    #[test]
    fn packed_rules_that_do_not_decode_are_reported_and_flags_keep_their_defaults() {
        static REGISTRY: Registry = Registry::packed(&META, &CELLS, "1,0,1,", "", "flags.toml");
        assert_eq!(REGISTRY.error_count(), 1);
        assert_eq!(REGISTRY.value_at(0), crate::Value::Bool(false));
    }
}
