//! PLACEHOLDER: serving simulator.
