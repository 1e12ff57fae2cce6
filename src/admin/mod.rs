//! Admin commands: the four-letter words (and, later, the AdminServer).
//!
//! Commands are answered by the core task, which owns every number they
//! report; the text follows ZooKeeper 3.8's output so scripts that parse it
//! keep working.

mod four_letter;
pub mod java_fmt;

pub use four_letter::VERSION_LINE;
