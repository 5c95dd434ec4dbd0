//! Prints how `parse_file` judges every file under a folder (a debugging aid).
fn main() {
    let root = std::env::args().nth(1).expect("usage: parse_corpus DIR");
    let mut ok = 0;
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let t = std::time::Instant::now();
        match studylink_ingest::parse_file(e.path(), studylink_ingest::DEFAULT_CONTACT_TAGS) {
            Ok(p) => {
                ok += 1;
                println!("OK   {:?} {} frames={} contacts={} {:?}", e.path(), p.meta.instance.transfer_syntax, p.meta.instance.frames, p.meta.contacts.len(), t.elapsed());
            }
            Err(err) => println!("ERR  {:?} {}", e.path(), err),
        }
    }
    println!("{ok} ok");
}
