//! Integration tests of the accel capability.
