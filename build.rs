// The lesson pack is embedded with include_dir, which does not notice added or removed files
// on stable Rust: rebuild whenever the pack folders change.
fn main() {
    println!("cargo:rerun-if-changed=lessons");
    println!("cargo:rerun-if-changed=sandbox-apps");
}
