//! `recpipe-dse` command-line entry point: parse arguments, run, map the outcome to an exit code.
fn main() -> std::process::ExitCode {
    recpipe_dse::cli::main()
}
