//! Visit request and response bodies.
