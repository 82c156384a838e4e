//! Integration tests: one binary, one module per capability.
mod accel;
mod sim;
mod spec;
mod explore;
mod quality;
