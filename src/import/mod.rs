//! Interchange with the tools users already run: conversions of other tools' configurations into this
//! tool's files. [`recpipe`]: a RecPipe (MICRO'21 artifact) experiment config as a design space.
pub mod recpipe;
