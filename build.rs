//! Sets the `sqlx_prepare` cfg from `KEYWARDEN_SQLX_PREPARE` (`sqlite` or `postgres`) while
//! `scripts/sqlx-prepare.sh` records one database's statements (see `store::backend`).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(sqlx_prepare, values(\"sqlite\", \"postgres\"))");
    println!("cargo::rerun-if-env-changed=KEYWARDEN_SQLX_PREPARE");
    println!("cargo::rerun-if-changed=build.rs");
    match std::env::var("KEYWARDEN_SQLX_PREPARE").as_deref() {
        Ok(dialect @ ("sqlite" | "postgres")) => {
            println!("cargo::rustc-cfg=sqlx_prepare=\"{dialect}\"")
        }
        Ok(other) => panic!("KEYWARDEN_SQLX_PREPARE must be sqlite or postgres, not {other:?}"),
        Err(_) => {}
    }
}
