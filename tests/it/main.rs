//! Integration tests: one binary, one module per capability.
mod accel;
mod browser;
mod checkout;
mod data;
mod explore;
mod fuzz;
mod import;
mod interfaces;
mod measure;
mod models;
mod peers;
mod quality;
mod reliability;
mod reproduce;
mod sim;
mod spec;
mod support;
