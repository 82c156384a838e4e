//! Integration tests: one binary, one module per capability.
mod accel;
mod quality;
mod sim;
mod spec;
