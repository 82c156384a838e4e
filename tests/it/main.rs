//! Integration tests: one binary, one module per capability.
mod accel;
mod measure;
mod sim;
mod spec;
mod explore;
mod quality;
mod data;
