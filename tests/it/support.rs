//! What every integration-test module shares: where the checkout under test is, and the binary.
//!
//! The checkout is the package root, unless `RECPIPE_DSE_TEST_CHECKOUT` names another folder: the
//! `checkout` module sets it to run tests from a copy of the checkout with nothing beside it, which proves
//! that no test reads a file outside the repository.
use std::path::PathBuf;
use std::process::Command;

/// The environment variable that points the tests at another copy of the checkout.
pub const CHECKOUT_VAR: &str = "RECPIPE_DSE_TEST_CHECKOUT";

/// The root of the checkout under test.
pub fn repo() -> PathBuf {
    match std::env::var_os(CHECKOUT_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    }
}

/// The `recpipe-dse` binary, run from the checkout's root (relative paths in arguments resolve there).
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_recpipe-dse"));
    c.current_dir(repo());
    c
}
