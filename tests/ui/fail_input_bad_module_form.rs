//! The long form is `VIS mod NAME = "PATH"`.

flags_runtime::flags!(pub(crate) mod = "fail_input_bad_module_form.toml");

mod no_eq {
    flags_runtime::flags!(pub mod features "fail_input_bad_module_form.toml");
}

mod no_mod {
    flags_runtime::flags!(pub features = "fail_input_bad_module_form.toml");
}

fn main() {}
