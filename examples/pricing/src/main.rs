//! Prices a basket under the flags in force (set `FLAGS_FAST_TAX=on`,
//! `FLAGS_CURRENCY=jpy`, ...) and exits 1 if the total is wrong: the command
//! `cargo flags matrix` runs once per combination.

use std::process::ExitCode;

fn main() -> ExitCode {
    match pricing::check() {
        Ok(()) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("pricing is wrong: {why}");
            ExitCode::FAILURE
        }
    }
}
