//! One integration-test binary: the real `twelve` binary, real processes, real ports.

mod integration {
    pub mod fixes;
    pub mod kv;
}
