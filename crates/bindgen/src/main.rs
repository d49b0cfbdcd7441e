//! The one step of the wasm-bindgen CLI that `scripts/build` needs: the hydrate bundle (the
//! library compiled for wasm32) in, the page's `OUT_NAME.js` and `OUT_NAME_bg.wasm` out, for a
//! `<script type="module">` (the CLI's `--target web --no-typescript`).
//!
//! Why a program of the workspace rather than `cargo install wasm-bindgen-cli`: the CLI also
//! builds its test runner (a web server, an HTTP client, TLS), which took 4 minutes of every
//! fresh machine here; this builds with the server, beside it, sharing its dependencies.
//!
//! Usage: glance-share-bindgen INPUT.wasm OUT_DIR OUT_NAME

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, out_name] = args.as_slice() else {
        eprintln!("usage: glance-share-bindgen INPUT.wasm OUT_DIR OUT_NAME");
        return ExitCode::from(2);
    };
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    let written = bindgen.input_path(input).web(true).and_then(|b| {
        // As the CLI does (the library's default differs); the page names the wasm itself.
        b.typescript(false).omit_default_module_path(false).out_name(out_name).generate(out_dir)
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glance-share-bindgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
