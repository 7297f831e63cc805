//! One integration-test binary: the real `twelve` binary, real processes, real ports.

mod integration {
    pub mod audit;
    pub mod classroom;
    pub mod cli;
    pub mod faults;
    pub mod harness;
    pub mod hostile;
    pub mod kv;
    pub mod packs;
    pub mod reproduce;
    pub mod tui;
}
