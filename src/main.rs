fn main() -> std::process::ExitCode {
    twelve::cli::main()
}
