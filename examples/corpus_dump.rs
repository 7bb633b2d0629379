use lawbrain::corpus::{ArticleKind, Corpus};
fn main() {
    let c = Corpus::from_laws_db(
        std::path::Path::new("/root/.cache/lawbrain/corpus/laws.db"),
        "2026-11-28",
    )
    .unwrap();
    println!(
        "laws {} articles {} other {}",
        c.laws.len(),
        c.articles.len(),
        c.other_versions.len()
    );
    let kinds = [
        ArticleKind::Article,
        ArticleKind::AmendmentItem,
        ArticleKind::FullText,
    ];
    for k in kinds {
        println!(
            "{k:?}: {}",
            c.articles.iter().filter(|a| a.kind == k).count()
        );
    }
    for (law, n) in [
        ("刑事诉讼法", 306),
        ("刑事诉讼法", 308),
        ("刑法", 101),
        ("刑法", 102),
        ("刑法", 452),
        ("民事诉讼法", 122),
        ("生态环境法典", 148),
        ("生态环境法典", 1240),
        ("国徽法", 19),
        ("人民警察警衔条例", 7),
    ] {
        if let lawbrain::corpus::Lookup::Current(a) = c.lookup(law, n, 0) {
            println!(
                "{} {:?} {:?}\n{}\n",
                a.citation(),
                a.path,
                a.possibly_outdated,
                a.text.chars().take(200).collect::<String>()
            );
        }
    }
    for a in c.articles.iter().filter(|a| a.possibly_outdated) {
        println!("outdated {}", a.citation());
    }
    for l in &c.laws {
        if l.aliases.len() > 1 {
            println!("{} {:?}", l.name, l.aliases);
        }
    }
    for l in &c.laws {
        if l.effective.as_deref() > Some("2026-01-01") {
            println!("recent {} {:?} {:?}", l.name, l.effective, l.status);
        }
    }
}
