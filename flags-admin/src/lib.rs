//! An opt-in admin endpoint for a flags [`Registry`](flags_runtime::Registry): what a
//! process's flags are doing, live, and a guarded way to change them.
//!
//! The runtime does not depend on this crate; a service adds it when it wants an admin
//! port. One [`Admin`] value answers every route, either behind the standalone server
//! ([`AdminBuilder::start`], a plain thread, no async runtime) or mounted in a service
//! that already has an HTTP stack ([`Admin::handle`] on the `http` crate's types).
//!
//! # Routes
//!
//! | method and path | what |
//! |---|---|
//! | `GET /` | the dashboard: one self-contained HTML page (inline CSS and script, nothing fetched from elsewhere) that polls `/flags.json` every second; a sortable, filterable table that marks stale and expiring flags, rolled-back rollouts and failing sources, with write controls that use a token pasted into the page |
//! | `GET /flags.json` | every flag: metadata, the value in force and whether it is the same for everyone, the deciding layer, the manifest's rules, evaluation counts by value, expiry, the rollout (stage, percent, status, last transitions); and the sources' status |
//! | `GET /metrics` | the text of the hook given to [`AdminBuilder::metrics`] (Prometheus exposition, typically); 404 without one |
//! | `POST /api/flags/{name}/override` | body `{"value": true}`, `{"value": "variant"}`, optional `"reason"`: forces the flag for the whole process (the override layer) |
//! | `DELETE /api/flags/{name}/override` | removes that override |
//! | `POST /api/flags/{name}/kill` | the kill switch: forces an on/off flag off, a variant flag to its manifest default, in the override layer; optional body `{"reason": ".."}`; undone by the `DELETE` above |
//! | `POST /api/rollouts/{flag}/{pause,resume,rollback}` | the rollout controller's manual commands, attributed to the token's actor; optional body `{"reason": ".."}` |
//!
//! # Writes
//!
//! A write needs `Authorization: Bearer <secret>` with a secret set by the operator
//! ([`AdminBuilder::token`], each naming its actor), compared in constant time, and
//! an audit log ([`AdminBuilder::audit_log`]): with no token or no audit log
//! configured every write is refused (403), a missing or wrong token gets 401. Each
//! accepted flag write (override, clear, kill) is appended to the audit log with its
//! actor *before* it takes effect (see [`audit`]); one that cannot be recorded is not
//! made. A rollout command is recorded by the controller in its own hash-chained log
//! as it takes effect, and then appended here with its actor.
//!
//! Bad requests change nothing and get a JSON body `{"error": "..."}`: malformed JSON
//! or an unknown field 400, an unknown flag 404, a value of the wrong type or an
//! unknown variant 422, a static flag 409 (no run-time layer can change it), a body
//! over the limit 413 ([`AdminBuilder::body_limit`], 64 KiB by default), a wrong
//! method 405 (with `Allow`), an unknown path 404.
//!
//! # Example
//!
//! ```no_run
//! use flags_admin::Admin;
//! # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
//! # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
//! # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
//! # static REGISTRY: Registry = Registry::new(&META, &CELLS,
//! #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
//!
//! let server = Admin::builder(&REGISTRY)
//!     .token("alice", std::env::var("ADMIN_TOKEN_ALICE")?)
//!     .audit_log("/var/log/myapp/flags-admin.jsonl")
//!     .start()?; // 127.0.0.1:9440 unless `.bind(..)` says otherwise
//! println!("admin on http://{}", server.local_addr());
//! // ... the server stops when `server` is dropped.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod audit;
mod auth;
mod builder;
mod dashboard;
mod error;
mod handler;
mod server;
mod view;
mod write;

pub use audit::AuditRecord;
pub use builder::{AdminBuilder, DEFAULT_BIND, DEFAULT_BODY_LIMIT, DEFAULT_TIMEOUT};
pub use error::AdminError;
pub use handler::Admin;
pub use server::AdminServer;
pub use view::{Expiry, FlagView, FlagsView, LayerView, RolloutView, SourceView, TransitionView};
