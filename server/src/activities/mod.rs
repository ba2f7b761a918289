//! Class and school activities (班级活动) with per-child answers from families (sign-up or
//! permission slips), and school announcements.

pub mod entity;
