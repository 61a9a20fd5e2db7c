// `sqlx::migrate!` embeds the migration files at compile time; without this, adding or editing a
// migration would not rebuild the kernel and the binary would carry the old schema.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
