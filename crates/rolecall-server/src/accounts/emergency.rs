//! Emergency access ("break the glass").
