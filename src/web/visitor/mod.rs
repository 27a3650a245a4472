//! What villagers open: the home page, fields, materials and their files, search, lessons,
//! the "about you" page and the wall poster.

pub mod lesson;
pub mod pages;
pub mod poster;
pub mod profile;
