//! Temporary folders, process supervision, ports, the built-in store and the router.
//! Knows nothing of lessons.

pub mod kv;
