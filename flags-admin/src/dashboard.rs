//! The dashboard page: one HTML file with its CSS and script inline (nothing is
//! fetched from elsewhere), served as is. It polls `flags.json` every second and
//! updates the table in place; every text from the data is set with `textContent`.

/// The page, `dashboard.html` beside this file.
pub(crate) const PAGE: &str = include_str!("dashboard.html");

/// What the page may do: its own inline script and style, fetches to its own origin,
/// nothing else (no outside script, image or frame), and no framing by other pages.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; \
    style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
