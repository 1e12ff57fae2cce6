//! The `myid` file: which `server.N` this process is.
//!
//! ZooKeeper reads `<dataDir>/myid` whenever it exists, even in standalone
//! mode, and parses its first line as a `long`. A quorum member without one
//! refuses to start ("myid file is missing"); that check is made by the
//! loader, which knows the mode.

use std::fs;
use std::io;
use std::path::Path;

use super::error::{ConfigError, Location};
use super::java_values::{java_trim, parse_long};

/// The myid file name inside dataDir.
pub const MYID_FILE_NAME: &str = "myid";

/// Reads `<data_dir>/myid`. `Ok(None)` when it is not a regular file.
///
/// Leniency: Java parses the first line verbatim, so `1 ` (trailing space)
/// fails there; FerroKeeper trims the line first.
pub(crate) fn read_myid(data_dir: &Path) -> Result<Option<u64>, ConfigError> {
    let path = data_dir.join(MYID_FILE_NAME);
    let location = Location::File {
        source: path.display().to_string(),
    };
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = fs::read(&path).map_err(|e| read_error(&location, &e))?;
    let text = String::from_utf8_lossy(&bytes);
    // BufferedReader.readLine: the first line ends at \n, \r or \r\n.
    let first_line = text.split(['\n', '\r']).next().unwrap_or_default();
    let id = parse_long(java_trim(first_line)).and_then(|v| u64::try_from(v).ok());
    match id {
        Some(id) => Ok(Some(id)),
        None => Err(ConfigError::new(
            location,
            None,
            format!(
                "expected this server's id (a non-negative integer matching a server.N entry) \
                 on the first line, got {first_line:?}"
            ),
        )),
    }
}

fn read_error(location: &Location, e: &io::Error) -> ConfigError {
    ConfigError::new(
        location.clone(),
        None,
        format!("cannot read the myid file: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("fk-myid-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn missing_is_none() {
        let dir = temp_dir("missing");
        assert_eq!(read_myid(&dir).unwrap(), None);
        // A directory called myid is not a file either.
        fs::create_dir(dir.join("myid")).unwrap();
        assert_eq!(read_myid(&dir).unwrap(), None);
    }

    #[test]
    fn reads_first_line() {
        let dir = temp_dir("ok");
        fs::write(dir.join("myid"), "3\n").unwrap();
        assert_eq!(read_myid(&dir).unwrap(), Some(3));
        fs::write(dir.join("myid"), " 42 \r\ngarbage").unwrap();
        assert_eq!(read_myid(&dir).unwrap(), Some(42));
        fs::write(dir.join("myid"), "7").unwrap();
        assert_eq!(read_myid(&dir).unwrap(), Some(7));
    }

    #[test]
    fn malformed_names_the_file() {
        let dir = temp_dir("bad");
        fs::write(dir.join("myid"), "one\n").unwrap();
        let e = read_myid(&dir).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&dir.join("myid").display().to_string()),
            "{text}"
        );
        assert!(text.contains("\"one\""), "{text}");
        fs::write(dir.join("myid"), "").unwrap();
        assert!(read_myid(&dir).is_err());
        fs::write(dir.join("myid"), "-1").unwrap();
        assert!(read_myid(&dir).is_err());
    }
}
