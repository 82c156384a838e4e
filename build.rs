//! Embeds an rpath to libtorch's library folder so the binary and the tests find libtorch without
//! LD_LIBRARY_PATH (LIBTORCH is set by `.cargo/config.toml`; libtorch installed by `setup.sh`), and records
//! the versions behind the tool's numbers — the resolved crates of `Cargo.lock`, rustc and the build
//! profile — as `RECPIPE_BUILD_VERSIONS` for `explore::versions`, and the git commit built from (the first
//! 12 hex digits, or `unknown` outside a git checkout) as `RECPIPE_GIT_COMMIT` for `--version`.
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut parts = Vec::new();
    for name in ["tch", "polars", "plotters", "argmin", "ndarray", "rayon"] {
        if let Some(version) = locked_version(&lock, name) {
            parts.push(format!("{name} {version}"));
        }
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = std::process::Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "rustc unknown".into());
    parts.push(format!("{rustc_version}, {} profile", std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into())));
    println!("cargo:rustc-env=RECPIPE_BUILD_VERSIONS={}", parts.join("; "));
    println!("cargo:rustc-env=RECPIPE_GIT_COMMIT={}", git_commit().unwrap_or_else(|| "unknown".into()));
}

/// The commit `.git/HEAD` points to (read from the files, so no git program is needed); asks cargo to rerun
/// when HEAD or its branch moves.
fn git_commit() -> Option<String> {
    println!("cargo:rerun-if-changed=.git/HEAD");
    let head = std::fs::read_to_string(".git/HEAD").ok()?;
    let head = head.trim();
    let full = match head.strip_prefix("ref: ") {
        None => head.to_string(),
        Some(branch) => {
            println!("cargo:rerun-if-changed=.git/{branch}");
            println!("cargo:rerun-if-changed=.git/packed-refs");
            match std::fs::read_to_string(format!(".git/{branch}")) {
                Ok(id) => id.trim().to_string(),
                Err(_) => std::fs::read_to_string(".git/packed-refs")
                    .ok()?
                    .lines()
                    .find_map(|l| l.strip_suffix(branch).map(|id| id.trim().to_string()))?,
            }
        }
    };
    (full.len() >= 12 && full.chars().all(|c| c.is_ascii_hexdigit())).then(|| full[..12].to_string())
}

/// The version of package `name` in a `Cargo.lock` text (the first entry when several versions are locked).
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{name}\"") {
            let next = lines.next()?;
            return next.trim().strip_prefix("version = \"")?.strip_suffix('"').map(str::to_string);
        }
    }
    None
}
