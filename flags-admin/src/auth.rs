//! Bearer tokens: who may write, and under which actor name the audit log records it.
//!
//! Secrets are compared in constant time (`subtle`), against every configured token
//! whatever matches first, so the time a request takes says nothing about how much of
//! a secret it guessed (only, as with any comparison, whether its length is one in use).

use http::HeaderMap;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

use crate::error::AdminError;
use crate::error::ApiError;

/// The operator's tokens: `(actor, secret)`.
pub(crate) struct Tokens(Vec<(String, Vec<u8>)>);

impl Tokens {
    pub(crate) fn new(tokens: Vec<(String, String)>) -> Result<Tokens, AdminError> {
        let mut out: Vec<(String, Vec<u8>)> = Vec::with_capacity(tokens.len());
        for (i, (actor, secret)) in tokens.into_iter().enumerate() {
            let actor = actor.trim().to_owned();
            let what = if actor.is_empty() {
                Some("the actor")
            } else if secret.is_empty() {
                Some("the secret")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(AdminError::EmptyToken {
                    position: i + 1,
                    what,
                });
            }
            if let Some((first, _)) = out.iter().find(|(_, s)| *s == secret.as_bytes()) {
                return Err(AdminError::DuplicateSecret {
                    first: first.clone(),
                    second: actor,
                });
            }
            out.push((actor, secret.into_bytes()));
        }
        Ok(Tokens(out))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The actor whose secret `headers` carry as a bearer token.
    pub(crate) fn actor(&self, headers: &HeaderMap) -> Result<&str, ApiError> {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "missing `Authorization: Bearer <token>` header",
            ));
        };
        let presented = value.as_bytes().strip_prefix(b"Bearer ").ok_or_else(|| {
            ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
        })?;
        let mut found: Option<&str> = None;
        for (actor, secret) in &self.0 {
            // No early exit: every token is compared.
            if bool::from(secret.as_slice().ct_eq(presented)) {
                found = Some(actor);
            }
        }
        found.ok_or_else(|| ApiError::unauthorized("the token is not valid"))
    }
}
