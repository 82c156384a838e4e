//! PLACEHOLDER: RecPipeAccel cost model.
