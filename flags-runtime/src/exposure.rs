//! Sampled exposure events and the keyed hash that names a context in them.
//!
//! An exposure event says which value a context got. It names the context by a hash
//! of its targeting key, never the key: HMAC-SHA-256 under a secret [`ExposureKey`],
//! truncated to 64 bits. Without the secret the hash cannot be recomputed, so a user
//! id cannot be recovered by hashing candidate ids (a dictionary attack), and one
//! known id and hash pair reveals nothing about the secret. 64 bits keep the event
//! field a plain number while collisions stay negligible (one expected after about
//! four billion distinct keys).
//!
//! The key is set through the API ([`ExposureSampling::with_key`]), or read from the
//! [`EXPOSURE_KEY_VAR`] environment variable by [`ExposureKey::from_env`] or
//! [`ExposureSampling::from_env`]; the registry never reads the environment for it on
//! its own. **Without a key, exposure events carry no key hash at all**: flag, value,
//! reason and layer only. Services that must correlate their events share one key;
//! changing the key changes every hash.

use std::fmt;

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The environment variable [`ExposureKey::from_env`] reads the secret from.
pub const EXPOSURE_KEY_VAR: &str = "FLAGS_EXPOSURE_KEY";

/// The secret that keys exposure hashes: at least [`ExposureKey::MIN_LEN`] bytes,
/// such as the output of `openssl rand -hex 32`. Its `Debug` output hides it.
///
/// # Examples
///
/// ```
/// use flags_runtime::ExposureKey;
///
/// let key = ExposureKey::new("a secret of at least thirty-two bytes")?;
/// assert_eq!(key.hash("user-1"), key.hash("user-1"));
/// assert_ne!(key.hash("user-1"), key.hash("user-2"));
/// assert!(ExposureKey::new("short").is_err());
/// assert_eq!(format!("{key:?}"), "ExposureKey(..)");
/// # Ok::<(), flags_runtime::ExposureKeyError>(())
/// ```
#[derive(Clone)]
pub struct ExposureKey {
    /// The HMAC state after the key: each hash clones it rather than rehashing the key.
    mac: Hmac<Sha256>,
}

impl ExposureKey {
    /// The shortest secret accepted, in bytes: SHA-256's output length, below which
    /// RFC 2104 calls an HMAC key weak.
    pub const MIN_LEN: usize = 32;

    /// A key from `secret`, refused when it is shorter than [`ExposureKey::MIN_LEN`]
    /// bytes.
    ///
    /// # Errors
    ///
    /// [`ExposureKeyError::TooShort`] for a secret under [`ExposureKey::MIN_LEN`] bytes.
    pub fn new(secret: impl AsRef<[u8]>) -> Result<ExposureKey, ExposureKeyError> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            return Err(ExposureKeyError::TooShort {
                origin: "the exposure key",
                len: secret.len(),
            });
        }
        Ok(ExposureKey::any_length(secret))
    }

    /// The key in [`EXPOSURE_KEY_VAR`] (its UTF-8 bytes), `None` when the variable is
    /// unset or empty.
    ///
    /// # Errors
    ///
    /// [`ExposureKeyError::TooShort`] or [`ExposureKeyError::NotUnicode`], naming the
    /// variable.
    ///
    /// # Examples
    ///
    /// ```
    /// match flags_runtime::ExposureKey::from_env() {
    ///     Ok(Some(_key)) => {} // events will carry the key's hashes
    ///     Ok(None) => {}       // no key: events carry no key hash
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// ```
    pub fn from_env() -> Result<Option<ExposureKey>, ExposureKeyError> {
        ExposureKey::from_var(std::env::var(EXPOSURE_KEY_VAR))
    }

    fn from_var(
        value: Result<String, std::env::VarError>,
    ) -> Result<Option<ExposureKey>, ExposureKeyError> {
        match value {
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) if v.len() < Self::MIN_LEN => Err(ExposureKeyError::TooShort {
                origin: EXPOSURE_KEY_VAR,
                len: v.len(),
            }),
            Ok(v) => Ok(Some(ExposureKey::any_length(v.as_bytes()))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(ExposureKeyError::NotUnicode {
                var: EXPOSURE_KEY_VAR,
            }),
        }
    }

    fn any_length(secret: &[u8]) -> ExposureKey {
        // RFC 2104's key block, built here so that construction cannot fail: a key
        // longer than SHA-256's 64-byte block is hashed first, then it is padded
        // with zeros to a block.
        let mut block = [0u8; 64];
        if secret.len() > block.len() {
            block[..32].copy_from_slice(&<Sha256 as sha2::Digest>::digest(secret));
        } else {
            block[..secret.len()].copy_from_slice(secret);
        }
        ExposureKey {
            mac: <Hmac<Sha256> as KeyInit>::new(&block.into()),
        }
    }

    /// HMAC-SHA-256 of `targeting_key`'s UTF-8 under this key.
    fn digest(&self, targeting_key: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(targeting_key.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The hash exposure events carry for `targeting_key`: the first 8 bytes of
    /// HMAC-SHA-256(secret, key's UTF-8), big-endian. A published function, so
    /// services in any language that share the secret compute the same number.
    #[must_use]
    pub fn hash(&self, targeting_key: &str) -> u64 {
        let d = self.digest(targeting_key);
        u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
    }
}

impl fmt::Debug for ExposureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExposureKey(..)")
    }
}

/// Why an exposure key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExposureKeyError {
    /// The secret is too short to resist guessing.
    #[error(
        "{origin} is {len} bytes; use at least {min} random bytes (for example the output of `openssl rand -hex 32`)",
        min = ExposureKey::MIN_LEN
    )]
    TooShort {
        /// Where the secret came from: the environment variable, or "the exposure key".
        origin: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The environment variable is not valid UTF-8.
    #[error("{var} is not valid UTF-8; write the secret as text (hex or base64)")]
    NotUnicode {
        /// The variable.
        var: &'static str,
    },
}

/// Sampled exposure events: which value a (pseudonymous) context got, for one
/// evaluation in [`one_in`](Self::one_in). Turned on with
/// [`Registry::set_exposure_sampling`](crate::Registry::set_exposure_sampling).
///
/// # Examples
///
/// ```
/// use flags_runtime::{ExposureKey, ExposureSampling};
///
/// let key = ExposureKey::new("a secret of at least thirty-two bytes")?;
/// let every_hundredth = ExposureSampling::new(100).with_key(key.clone());
/// assert_eq!(every_hundredth.hash_key("user-1"), Some(key.hash("user-1")));
/// // Without a key, events carry no key hash.
/// assert_eq!(ExposureSampling::new(100).hash_key("user-1"), None);
/// # Ok::<(), flags_runtime::ExposureKeyError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ExposureSampling {
    /// One evaluation in this many emits an event (1 = all, 0 = none).
    pub one_in: u32,
    /// The secret that keys the targeting key's hash; `None`: events carry no hash.
    pub key: Option<ExposureKey>,
    /// Which events: the crate's own exposure events, or OpenTelemetry's.
    pub format: EventFormat,
}

/// The shape of sampled evaluation events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventFormat {
    /// `flag exposure` events on [`EXPOSURE_TARGET`](crate::EXPOSURE_TARGET), with
    /// the fields `flag`, `value`, `reason`, `layer` and `key_hash`.
    #[default]
    Exposure,
    /// `feature_flag.evaluation` events on
    /// [`OTEL_TARGET`](crate::telemetry::OTEL_TARGET), following OpenTelemetry's
    /// semantic conventions for feature flags: `feature_flag.key`,
    /// `feature_flag.result.variant`, `feature_flag.result.reason` (`static`,
    /// `default`, `targeting_match`, `split`, `disabled` or `error`),
    /// `feature_flag.provider.name` (`flags`), `feature_flag.set.id` (the manifest's
    /// path) and, with a key, `feature_flag.context.id` (the keyed hash of the
    /// targeting key, in hex: never the key itself). With `tracing-opentelemetry`,
    /// each becomes an event named `feature_flag.evaluation` on the current span.
    OpenTelemetry,
}

impl ExposureSampling {
    /// One evaluation in `one_in`, without a key (events carry no key hash).
    #[must_use]
    pub fn new(one_in: u32) -> ExposureSampling {
        ExposureSampling {
            one_in,
            key: None,
            format: EventFormat::Exposure,
        }
    }

    /// One evaluation in `one_in`, keyed by [`EXPOSURE_KEY_VAR`] when it is set.
    ///
    /// # Errors
    ///
    /// As [`ExposureKey::from_env`]: a set but unusable variable is an error, never a
    /// silent fallback to no hash.
    pub fn from_env(one_in: u32) -> Result<ExposureSampling, ExposureKeyError> {
        Ok(ExposureSampling {
            key: ExposureKey::from_env()?,
            ..ExposureSampling::new(one_in)
        })
    }

    /// The same sampling, with events naming contexts by `key`'s hash.
    #[must_use]
    pub fn with_key(self, key: ExposureKey) -> ExposureSampling {
        ExposureSampling {
            key: Some(key),
            ..self
        }
    }

    /// The same sampling, emitting OpenTelemetry's `feature_flag.evaluation` events
    /// ([`EventFormat::OpenTelemetry`]) instead of exposure events.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::{EventFormat, ExposureSampling};
    /// let all = ExposureSampling::new(1).open_telemetry();
    /// assert_eq!(all.format, EventFormat::OpenTelemetry);
    /// ```
    #[must_use]
    pub fn open_telemetry(self) -> ExposureSampling {
        ExposureSampling {
            format: EventFormat::OpenTelemetry,
            ..self
        }
    }

    /// The hash an event carries for `targeting_key`: [`ExposureKey::hash`], or `None`
    /// without a key.
    #[must_use]
    pub fn hash_key(&self, targeting_key: &str) -> Option<u64> {
        self.key.as_ref().map(|k| k.hash(targeting_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc_4231_known_answers() {
        // RFC 4231 test case 1: a 20-byte key, under the public minimum, so through
        // the internal constructor.
        let key = ExposureKey::any_length(&[0x0b; 20]);
        assert_eq!(
            hex(&key.digest("Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        // Test case 6: a key longer than SHA-256's block, through the public API; the
        // hash is the digest's first 8 bytes.
        let key = ExposureKey::new([0xaa; 131]).unwrap();
        let data = "Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            hex(&key.digest(data)),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert_eq!(key.hash(data), 0x60e4_3159_1ee0_b67f);
    }

    #[test]
    fn same_key_same_hash_other_key_other_hash() {
        let a = ExposureKey::new([b'a'; 32]).unwrap();
        let a_again = ExposureKey::new([b'a'; 32]).unwrap();
        let b = ExposureKey::new([b'b'; 32]).unwrap();
        assert_eq!(a.hash("user-1"), a_again.hash("user-1"));
        assert_ne!(a.hash("user-1"), b.hash("user-1"));
        assert_ne!(a.hash("user-1"), a.hash("user-2"));
        // Pinned, computed independently (Python's hmac and hashlib): the function
        // must not change with the toolchain or the crate versions.
        let k = ExposureKey::new([b'k'; 32]).unwrap();
        assert_eq!(k.hash("user-1"), 9_431_490_606_488_728_146);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            ExposureKey::new([7; 31]).unwrap_err(),
            ExposureKeyError::TooShort {
                origin: "the exposure key",
                len: 31
            }
        );
        assert!(ExposureKey::new([7; 32]).is_ok());
        assert!(
            ExposureKey::new([7; 31])
                .unwrap_err()
                .to_string()
                .contains("at least 32")
        );
    }

    #[test]
    fn environment_variable() {
        use std::env::VarError;
        let hash = |v: Result<String, VarError>| {
            ExposureKey::from_var(v).map(|k| k.map(|k| k.hash("user-1")))
        };
        assert_eq!(hash(Err(VarError::NotPresent)), Ok(None));
        assert_eq!(hash(Ok(String::new())), Ok(None));
        assert_eq!(
            hash(Ok("k".repeat(32))),
            Ok(Some(9_431_490_606_488_728_146))
        );
        assert_eq!(
            hash(Ok("k".repeat(31))),
            Err(ExposureKeyError::TooShort {
                origin: EXPOSURE_KEY_VAR,
                len: 31
            })
        );
        assert_eq!(
            hash(Err(VarError::NotUnicode("\u{fffd}".into()))),
            Err(ExposureKeyError::NotUnicode {
                var: EXPOSURE_KEY_VAR
            })
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let s = ExposureSampling::new(1).with_key(ExposureKey::new("s".repeat(40)).unwrap());
        assert!(!format!("{s:?}").contains("sss"), "{s:?}");
    }
}
