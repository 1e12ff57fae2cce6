//! conf/zoo.cfg, the commented sample, says true things: it parses and
//! resolves; every "FerroKeeper: acted on" / "accepted, not acted on yet"
//! tag matches what the server does with the key; and every commented-out
//! `#key=value` under "Default:" changes nothing when uncommented.

use ferrokeeper::config::{is_acted_on, ServerConfig, SystemProperties};
use ferrokeeper::server::Settings;

const SAMPLE: &str = include_str!("../conf/zoo.cfg");

fn settings_of(text: &str) -> String {
    let cfg = ServerConfig::from_str_with(text, "zoo.cfg", SystemProperties::new())
        .unwrap_or_else(|e| panic!("sample does not parse: {e}"));
    let mut s =
        Settings::from_config(&cfg).unwrap_or_else(|e| panic!("sample does not resolve: {e}"));
    // The AdminServer keeps the file's text (`initial_configuration`) and
    // the system properties it set (`system_properties`): reports of what
    // the file says, which differ with every edit, not settings.
    if let Some(a) = s.admin.as_mut() {
        a.initial_config = None;
        a.system_properties.clear();
    }
    format!("{s:?}")
}

/// A setting line of the sample: (line index, key, commented out?, the
/// comment block above it).
struct Setting {
    index: usize,
    key: String,
    commented: bool,
    block: String,
}

fn settings_in_sample() -> Vec<Setting> {
    let mut out = Vec::new();
    let mut block = String::new();
    for (index, line) in SAMPLE.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            block.clear();
            continue;
        }
        // "#key=value" with no blank after '#' is a commented-out setting;
        // "# text" is prose.
        let (body, commented) = match t.strip_prefix('#') {
            Some(rest)
                if !rest.starts_with(' ') && !rest.starts_with('#') && rest.contains('=') =>
            {
                (rest, true)
            }
            Some(rest) => {
                block.push_str(rest);
                block.push('\n');
                continue;
            }
            None => (t, false),
        };
        let key = body.split('=').next().unwrap_or("").trim().to_string();
        out.push(Setting {
            index,
            key,
            commented,
            block: block.clone(),
        });
    }
    out
}

#[test]
fn sample_parses_and_resolves() {
    let cfg = ServerConfig::from_str_with(SAMPLE, "zoo.cfg", SystemProperties::new())
        .expect("conf/zoo.cfg parses");
    Settings::from_config(&cfg).expect("conf/zoo.cfg resolves to a standalone server");
    assert!(!cfg.is_quorum(), "the sample is standalone");
}

#[test]
fn acted_on_tags_are_true() {
    let settings = settings_in_sample();
    assert!(
        settings.len() > 20,
        "found only {} settings",
        settings.len()
    );
    for s in &settings {
        let acted = s.block.contains("FerroKeeper: acted on");
        let not_acted = s.block.contains("FerroKeeper: accepted, not acted on yet");
        assert!(
            acted ^ not_acted,
            "line {}: {} needs exactly one FerroKeeper tag in its comment block",
            s.index + 1,
            s.key
        );
        assert_eq!(
            is_acted_on(&s.key),
            acted,
            "line {}: the sample says {} is {}acted on",
            s.index + 1,
            s.key,
            if acted { "" } else { "not " }
        );
    }
    // And the server's own list of ignored keys agrees for the active lines.
    let cfg =
        ServerConfig::from_str_with(SAMPLE, "zoo.cfg", SystemProperties::new()).expect("parses");
    let ignored: Vec<String> = cfg.ignored_keys().into_iter().map(|(k, _)| k).collect();
    let tagged: Vec<String> = settings
        .iter()
        .filter(|s| !s.commented && s.block.contains("not acted on yet"))
        .map(|s| s.key.clone())
        .collect();
    assert_eq!(ignored, tagged);
}

#[test]
fn commented_defaults_are_the_defaults() {
    let base = settings_of(SAMPLE);
    let lines: Vec<&str> = SAMPLE.lines().collect();
    let mut checked = 0;
    for s in settings_in_sample() {
        if !s.commented || !s.block.contains("Default") {
            continue;
        }
        let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        edited[s.index] = lines[s.index].trim_start_matches('#').to_string();
        let text = edited.join("\n");
        assert_eq!(
            settings_of(&text),
            base,
            "line {}: uncommenting {:?} changes the server's settings, so it is not the default",
            s.index + 1,
            lines[s.index]
        );
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} defaults checked");
}

/// The examples are not defaults: uncommenting one of them must change
/// something, or the "Default:" check above could be vacuous.
#[test]
fn a_changed_value_is_noticed() {
    let base = settings_of(SAMPLE);
    let text = SAMPLE.replace("#maxClientCnxns=60", "maxClientCnxns=61");
    assert_ne!(settings_of(&text), base);
}
