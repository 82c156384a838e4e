//! Embeds an rpath to libtorch's library folder so the binary and the tests find libtorch without
//! LD_LIBRARY_PATH. LIBTORCH is set by `.cargo/config.toml` (libtorch installed by `setup.sh`).
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
