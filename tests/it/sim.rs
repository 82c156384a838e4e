//! Integration tests of the sim capability.
