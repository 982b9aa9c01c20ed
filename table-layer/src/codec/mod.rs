//! Byte encodings: [`key`] turns values into memcomparable key bytes,
//! [`row`] turns the non-key columns of a row into a compact value.
//!
//! Both are public so that other layers can reuse them (a SQL executor can
//! sort or group by memcomparable keys), and both are pinned by golden tests:
//! changing an encoding is a format change.

pub mod key;
pub mod row;
