//! Growth records (成长记录): each pupil's timeline of selected work, teachers' comments, awards
//! and activities, which the pupil and their family see, which exports as a self-contained
//! archive, and which outlives the pupil's place in the roster.

pub mod entity;
