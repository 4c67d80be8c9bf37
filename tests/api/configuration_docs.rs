//! Every environment variable the server reads is documented: in
//! `docs/CONFIGURATION.md` and in `.env.example`. The names are found by
//! reading the source, so a variable added without its documentation fails
//! here rather than surprising whoever deploys it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[test]
fn every_variable_the_code_reads_is_in_configuration_md_and_env_example() {
    let read = variables_read_by_the_code();
    let configuration = repository_file("docs/CONFIGURATION.md");
    let env_example = repository_file(".env.example");
    let in_env_example = assigned_in_env_example(&env_example);

    let missing_from_configuration: Vec<_> = read
        .iter()
        .filter(|name| !configuration.contains(&format!("`{name}`")))
        .collect();
    let missing_from_env_example: Vec<_> = read
        .iter()
        .filter(|name| !in_env_example.contains(*name))
        .collect();

    assert!(
        missing_from_configuration.is_empty(),
        "read in src/ but not in docs/CONFIGURATION.md (as `NAME`): {missing_from_configuration:?}"
    );
    assert!(
        missing_from_env_example.is_empty(),
        "read in src/ but not in .env.example (as `NAME=…`): {missing_from_env_example:?}"
    );
}

#[test]
fn the_source_scan_finds_the_variables_settings_are_made_of() {
    let read = variables_read_by_the_code();

    // If the scan stopped finding names, the test above would pass on nothing.
    for known in [
        "BIND_ADDR",
        "DATABASE_URL",
        "JWT_SECRET",
        "S3_BUCKET",
        "RUST_LOG",
    ] {
        assert!(read.contains(known), "{known} not found in {read:?}");
    }
    assert!(
        read.len() >= 30,
        "only {} variables found: {read:?}",
        read.len()
    );
}

/// The names the server reads from its environment: every
/// `UPPER_SNAKE` string in the settings code (`src/platform/config.rs`,
/// its tests left out), every literal name given to `env::var` anywhere in
/// `src/`, and `RUST_LOG` where tracing's filter reads its default variable.
fn variables_read_by_the_code() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for path in rust_files(&repository_path("src")) {
        let source = std::fs::read_to_string(&path).unwrap();
        let code = without_tests(&source);
        let in_settings = path.ends_with("src/platform/config.rs");
        for literal in string_literals(code) {
            let read_directly = ["env::var(", "env::var_os("]
                .iter()
                .any(|call| literal.code_before.trim_end().ends_with(call));
            if (in_settings || read_directly) && looks_like_a_variable(&literal.text) {
                names.insert(literal.text);
            }
        }
        if strip_comments(code).contains("from_default_env") {
            names.insert("RUST_LOG".to_owned());
        }
    }
    names
}

/// Names shown with a value in `.env.example` (`#NAME=…`, `NAME=…`, or
/// `NAME=…` within a comment's sentence).
fn assigned_in_env_example(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '='))
        .filter_map(|word| word.split_once('='))
        .map(|(name, _)| name)
        .filter(|name| looks_like_a_variable(name))
        .map(str::to_owned)
        .collect()
}

fn looks_like_a_variable(text: &str) -> bool {
    text.len() >= 3
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// The source up to its `#[cfg(test)]` module, which sets variables of its own.
fn without_tests(source: &str) -> &str {
    source
        .find("#[cfg(test)]")
        .map_or(source, |end| &source[..end])
}

struct Literal {
    text: String,
    /// The code on the literal's line before it, comments left out.
    code_before: String,
}

/// The string literals of Rust source, outside comments; char literals and
/// lifetimes are stepped over so a `'"'` does not open a string.
fn string_literals(source: &str) -> Vec<Literal> {
    let chars: Vec<char> = source.chars().collect();
    let mut literals = Vec::new();
    let mut line = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
            }
            '\'' => {
                if chars.get(i + 1) == Some(&'\\') {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    line.push('\'');
                    i += 1;
                }
            }
            'r' if raw_string_hashes(&chars[i + 1..]).is_some()
                && !line.ends_with(|c: char| c.is_alphanumeric() || c == '_') =>
            {
                let hashes = raw_string_hashes(&chars[i + 1..]).unwrap_or(0);
                let start = i + 2 + hashes;
                let closing: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let mut end = start;
                while end < chars.len() && !chars[end..].starts_with(&closing) {
                    end += 1;
                }
                literals.push(Literal {
                    text: chars[start.min(end)..end].iter().collect(),
                    code_before: line.clone(),
                });
                i = end + closing.len();
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    if let Some(c) = chars.get(i) {
                        text.push(*c);
                    }
                    i += 1;
                }
                i += 1;
                literals.push(Literal {
                    text,
                    code_before: line.clone(),
                });
            }
            '\n' => {
                line.clear();
                i += 1;
            }
            c => {
                line.push(c);
                i += 1;
            }
        }
    }
    literals
}

/// After an `r`: how many `#` open a raw string (`r"…"`, `r#"…"#`), or
/// `None` if none opens there (`r#type` is an identifier).
fn raw_string_hashes(after_r: &[char]) -> Option<usize> {
    let hashes = after_r.iter().take_while(|c| **c == '#').count();
    (after_r.get(hashes) == Some(&'"')).then_some(hashes)
}

fn strip_comments(source: &str) -> String {
    source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

fn repository_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn repository_file(relative: &str) -> String {
    let path = repository_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
