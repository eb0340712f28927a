//! The `headcount` binary: parses the command line and hands over to [`headcount::cli`].
//! Wiring only; it must never hold logic of its own.

fn main() -> std::process::ExitCode {
    headcount::cli::main()
}
