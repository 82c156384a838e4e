//! Integration tests: one binary, one module per capability.
mod accel;
mod data;
mod measure;
mod quality;
mod sim;
mod spec;
