//! The checkout stands on its own: no test, source file or documented example reads outside the repository.
//!
//! Two checks. The first reads every project file and rejects references that leave the checkout (a path
//! into the development reference folder beside the checkout, a citation of its documents, a Markdown link or a documented command argument that resolves above the root) and
//! documented file arguments that do not exist. The second copies the checkout into an empty temporary folder
//! (nothing beside it, as in a fresh clone after `./setup.sh`), runs the integration tests that read the
//! repository's fixtures (accelerator golden rows and RecPipe JSON descriptions, spaces, pipeline files, the
//! paper's figure files) from
//! that copy, and runs the quick documented example commands (`accel eval`, `simulate`, `validate`,
//! `reproduce`) there.
use crate::support::{repo, CHECKOUT_VAR};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Folders that are build output, downloads or generated results, never part of a clone.
const NOT_IN_A_CLONE: &[&str] = &["target", ".deps", ".cache", ".git", ".device", "data", "reports"];

/// File endings whose text is checked for references outside the checkout.
const TEXT_ENDINGS: &[&str] = &["rs", "md", "yaml", "yml", "json", "toml", "sh", "csv", "txt"];

/// Every file of the checkout that a clone has (plus `reports/README.md`), relative to `root`, sorted.
fn project_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let rel = path.strip_prefix(root).expect("below root").to_path_buf();
            let top = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
            if dir == root && NOT_IN_A_CLONE.contains(&top) {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.is_file() {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    if root.join("reports/README.md").is_file() {
        out.push(PathBuf::from("reports/README.md"));
    }
    out.sort();
    out
}

/// `path` joined to `base` with `.` and `..` resolved lexically; `None` when it climbs above `base`'s root
/// (the checkout root is the empty path).
fn resolve_inside(base: &Path, path: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = base.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    for c in Path::new(path).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Spellings of the reference folder that lives beside a development checkout but not beside a clone, and of
/// the documents in it (assembled here so that this file does not match itself).
fn outside_spellings() -> [String; 5] {
    let name = ["sha", "red"].concat();
    let doc = ["recpipe", "-reference"].concat();
    let data = ["reference", "-data/"].concat();
    [format!("../{name}"), format!("join(\"{name}\")"), format!("{name}/golden"), format!("{doc}.md"), data]
}

/// Markdown link targets `[text](target)` that are relative paths (no scheme, no pure anchor).
fn markdown_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or("").trim();
        if !target.is_empty() && !target.contains("://") && !target.starts_with("mailto:") {
            out.push(target.to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// A command documented in a Markdown code block: the words after `cargo run --release --` or
/// `recpipe-dse`, continuation lines joined and a trailing `# comment` dropped.
#[derive(Debug)]
struct DocCommand {
    file: PathBuf,
    line: usize,
    args: Vec<String>,
}

fn documented_commands(file: &Path, text: &str) -> Vec<DocCommand> {
    let mut out = Vec::new();
    let mut in_code = false;
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let mut joined = line.trim().to_string();
        while joined.ends_with('\\') {
            joined.pop();
            match lines.next() {
                Some((_, next)) => joined.push_str(next.trim()),
                None => break,
            }
        }
        let command = joined.split(" #").next().unwrap_or("").trim().to_string();
        let command = command.strip_prefix("./setup.sh && ").unwrap_or(&command);
        let args = if let Some(a) = command.strip_prefix("cargo run --release -- ") {
            a
        } else if let Some(a) = command.strip_prefix("recpipe-dse ") {
            a
        } else {
            continue;
        };
        out.push(DocCommand {
            file: file.to_path_buf(),
            line: n + 1,
            args: args.split_whitespace().map(|w| w.trim_matches(|c| c == '[' || c == ']').to_string()).collect(),
        });
    }
    out
}

/// Documentation files: every Markdown file of the checkout.
fn markdown_files(root: &Path) -> Vec<PathBuf> {
    project_files(root).into_iter().filter(|p| p.extension().is_some_and(|e| e == "md")).collect()
}

/// Arguments of a documented command that name files (they contain a `/` and are not flags or `k=v`).
fn path_args(cmd: &DocCommand) -> Vec<&str> {
    cmd.args
        .iter()
        .map(String::as_str)
        .filter(|a| a.contains('/') && !a.starts_with('-') && !a.contains('=') && !a.contains('<'))
        .collect()
}

#[test]
fn no_project_file_refers_outside_the_checkout() {
    let root = repo();
    let spellings = outside_spellings();
    let mut problems = Vec::new();
    for rel in project_files(&root) {
        let ending = rel.extension().and_then(|e| e.to_str()).unwrap_or("");
        let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !TEXT_ENDINGS.contains(&ending) && !matches!(name, "run" | "setup.sh" | ".gitignore") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root.join(&rel)) else { continue };
        for (n, line) in text.lines().enumerate() {
            if let Some(s) = spellings.iter().find(|s| line.contains(s.as_str())) {
                problems.push(format!("{}:{}: refers to '{s}', outside the checkout", rel.display(), n + 1));
            }
        }
        if ending == "md" {
            let dir = rel.parent().unwrap_or(Path::new(""));
            for target in markdown_links(&text) {
                match resolve_inside(dir, &target) {
                    None => problems.push(format!("{}: link '{target}' leaves the checkout", rel.display())),
                    Some(p) if !root.join(&p).exists() => {
                        problems.push(format!("{}: link '{target}' names no file of the checkout", rel.display()))
                    }
                    Some(_) => {}
                }
            }
            for cmd in documented_commands(&rel, &text) {
                for arg in path_args(&cmd) {
                    match resolve_inside(Path::new(""), arg) {
                        None => problems.push(format!(
                            "{}:{}: command argument '{arg}' leaves the checkout",
                            cmd.file.display(),
                            cmd.line
                        )),
                        Some(p) if !root.join(&p).exists() => problems.push(format!(
                            "{}:{}: command argument '{arg}' names no file of the checkout",
                            cmd.file.display(),
                            cmd.line
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_documented_commands_are_found() {
    // Guards the extraction above: if the README's form changed so that no command were found, the checks
    // on documented commands would pass vacuously.
    let root = repo();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let cmds = documented_commands(Path::new("README.md"), &readme);
    assert!(cmds.iter().any(|c| c.args[..2] == ["explore", "spaces/kaggle.yaml"]), "{cmds:?}");
    assert!(cmds.iter().filter(|c| c.args[0] == "accel").count() >= 2, "{cmds:?}");
    assert_eq!(resolve_inside(Path::new("src/sim"), "../../accel"), Some(PathBuf::from("accel")));
    assert_eq!(resolve_inside(Path::new("src"), "../../x"), None);
}

/// Copy the clone's files (and `data/`, which `./setup.sh` fetches into a clone) into an empty folder.
fn copy_checkout() -> (PathBuf, PathBuf) {
    let root = repo();
    let parent = std::env::temp_dir().join(format!("recpipe-dse-lone-checkout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&parent);
    let copy = parent.join("checkout");
    let mut files = project_files(&root);
    let data = root.join("data");
    if data.is_dir() {
        let mut stack = vec![data];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p.strip_prefix(&root).unwrap().to_path_buf());
                }
            }
        }
    }
    for rel in files {
        let to = copy.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(&rel), &to).unwrap_or_else(|e| panic!("copy {}: {e}", rel.display()));
    }
    (parent, copy)
}

/// Commands of the docs quick enough to run in a test (no full training, no long search): `reproduce` runs
/// with `--quick` added (its quality figure then trains on 20,000 rows) and writes into the copy's
/// `reports/`.
fn is_quick(cmd: &DocCommand) -> bool {
    matches!(cmd.args.first().map(String::as_str), Some("accel" | "simulate" | "validate" | "reproduce"))
}

#[test]
fn fixture_tests_and_quick_examples_pass_from_a_copy_with_nothing_beside_it() {
    if std::env::var_os(CHECKOUT_VAR).is_some() {
        return; // already running inside a copy: the outer run does this check
    }
    let (parent, copy) = copy_checkout();
    assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 1, "the copy has nothing beside it");

    // The integration tests that read the repository's files, run from the copy.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(&exe)
        .args(["accel::", "spec::", "sim::", "reproduce::", "--skip", "checkout::", "--test-threads", "2"])
        .env(CHECKOUT_VAR, &copy)
        .current_dir(&copy)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tests from the copy failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let passed: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 30, "expected the accel, spec, sim and reproduce tests to run from the copy:\n{stdout}");

    // The quick documented examples, run from the copy.
    let mut ran = 0;
    for md in markdown_files(&copy) {
        let text = std::fs::read_to_string(copy.join(&md)).unwrap();
        for cmd in documented_commands(&md, &text).into_iter().filter(is_quick) {
            let mut args = cmd.args.clone();
            if args[0] == "reproduce" && !args.iter().any(|a| a == "--quick") {
                args.push("--quick".into());
            }
            let out = Command::new(env!("CARGO_BIN_EXE_recpipe-dse")).args(&args).current_dir(&copy).output().unwrap();
            assert!(
                out.status.success(),
                "{}:{}: `recpipe-dse {}` failed from the copy: {}",
                cmd.file.display(),
                cmd.line,
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 5, "expected the README's accel, simulate and reproduce examples to run, ran {ran}");
    let _ = std::fs::remove_dir_all(&parent);
}
