//! Integration tests of the spec capability.
