//! The demo of `serve --demo`.
