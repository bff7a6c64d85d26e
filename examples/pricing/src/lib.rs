//! A small pricing library with a bug that only one flag combination shows: the new tax
//! engine (`fast_tax`) treats every currency as having cents, so yen totals come out a
//! hundred times too small. Its tests run under every combination of its flags.

flags_runtime::flags!("flags.toml");

/// Minor units per major unit of the current currency (yen has none).
pub fn minor_units() -> u64 {
    match flags::currency() {
        flags::Currency::Eur | flags::Currency::Usd => 100,
        flags::Currency::Jpy => 1,
    }
}

/// The total of `prices` (in minor units) with 10% tax, in minor units.
///
/// ```
/// assert_eq!(pricing::total_with_tax(&[1000, 2000]), 3300);
/// ```
pub fn total_with_tax(prices: &[u64]) -> u64 {
    let net: u64 = prices.iter().sum();
    let gross = if flags::fast_tax() {
        // The new engine works in whole units to stay in integers ...
        let units = net / 100;
        let tax = units / 10;
        // ... and assumes every currency has cents: wrong for yen.
        (units + tax) * 100 + (net % 100) * 11 / 10
    } else {
        net + net / 10
    };
    if flags::round_up() {
        gross.div_ceil(minor_units()) * minor_units()
    } else {
        gross
    }
}

/// Checks `total_with_tax` against plain arithmetic on a basket; the message of the
/// first mismatch, if any.
pub fn check() -> Result<(), String> {
    let basket = [1_250, 3_999, 10_005, 7];
    let net: u64 = basket.iter().sum();
    let exact = net + net / 10;
    let unit = minor_units();
    let expected = if flags::round_up() {
        exact.div_ceil(unit) * unit
    } else {
        exact
    };
    let got = total_with_tax(&basket);
    // Integer tax rounds per part; a cent (or a unit) of difference is tolerated.
    if got.abs_diff(expected) > unit {
        return Err(format!("total {got} but expected {expected} (net {net})"));
    }
    Ok(())
}
