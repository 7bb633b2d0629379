//! `lawbrain index`, `article`, `cite-check`.

use std::io::Read;

use anyhow::Context;
use lawbrain::cite::{self, CiteStatus};
use lawbrain::corpus::{numerals, Lookup};
use lawbrain::progress::Progress;
use lawbrain::search::{self, Searcher};

use crate::cli::{ArticleArgs, CiteCheckArgs, IndexArgs};

/// Rebuild the index: national corpus as of the date plus the local folder.
pub fn index(a: IndexArgs) -> anyhow::Result<()> {
    let mut paths = super::paths(&a.data);
    if let Some(local) = &a.local {
        paths.local = local.clone();
    }
    let mut bar = super::Bar::new();
    let manifest = search::rebuild(&paths, a.as_of.as_deref(), &mut bar)?;
    bar.finish(&format!(
        "indexed {} articles of {} laws (as of {}) in {:.1} s",
        manifest.articles,
        manifest.laws,
        manifest.as_of,
        manifest.build_ms as f64 / 1000.0
    ));
    // The dense index of the new build (vectors come from the cache's
    // vector store; only passages it has never seen are embedded).
    let searcher = Searcher::open(&paths.index)?;
    super::attach_dense(&searcher, &a.data)?;
    let manifest = search::read_manifest(&paths.index)?;
    println!("{}", serde_json::to_string_pretty(&manifest)?);
    Ok(())
}

fn open_corpus(data: &crate::cli::DataArgs) -> anyhow::Result<Searcher> {
    let paths = super::paths(data);
    Searcher::open(&paths.index)
        .map_err(|e| anyhow::anyhow!("{e}\n(run `lawbrain index` to build the index)"))
}

/// Show one article.
pub fn article(a: ArticleArgs) -> anyhow::Result<()> {
    let searcher = open_corpus(&a.data)?;
    let corpus = searcher.corpus();
    let Some((number, suffix)) = numerals::parse_article(&a.number) else {
        anyhow::bail!(
            "{:?} is not an article number: write it as 1079, 第一千零七十九条 or 133之一",
            a.number
        );
    };
    match corpus.lookup(&a.law, number, suffix) {
        Lookup::Current(art) | Lookup::NotInForce(art) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(art)?);
            } else {
                println!("{}", art.citation());
                let mut meta = vec![
                    art.level.as_str().to_string(),
                    art.status.as_str().to_string(),
                ];
                if let Some(e) = &art.effective {
                    meta.push(format!("施行 {e}"));
                }
                if !art.path.is_empty() {
                    meta.push(art.path.join(" / "));
                }
                println!("[{}]", meta.join(" · "));
                if art.possibly_outdated {
                    println!("注意：本条可能已被后来的修正案修改。");
                }
                if !art.status.citable() {
                    println!("注意：此版本在 {} 不是现行有效版本。", corpus.as_of);
                }
                println!("\n{}", art.text);
            }
            Ok(())
        }
        Lookup::NoSuchArticle => {
            let law = corpus.resolve_any_law(&a.law).unwrap_or(&a.law);
            let max = corpus
                .articles_of(law)
                .filter(|x| x.kind == lawbrain::corpus::ArticleKind::Article)
                .map(|x| x.article)
                .max();
            match max {
                Some(m) => anyhow::bail!(
                    "《{law}》has no {}: its articles run from 第一条 to {}",
                    numerals::article_label(number, suffix),
                    numerals::article_label(m, 0)
                ),
                None => anyhow::bail!(
                    "《{law}》has no {}",
                    numerals::article_label(number, suffix)
                ),
            }
        }
        Lookup::UnknownLaw => {
            let hints = corpus.suggest_laws(&a.law, 5);
            if hints.is_empty() {
                anyhow::bail!("unknown law {:?}", a.law)
            } else {
                anyhow::bail!(
                    "unknown law {:?}; did you mean: {}",
                    a.law,
                    hints.join("、")
                )
            }
        }
    }
}

/// Check every citation in a text.
pub fn cite_check(a: CiteCheckArgs) -> anyhow::Result<()> {
    let text = if a.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        s
    } else {
        a.text.clone()
    };
    let searcher = open_corpus(&a.data)?;
    let citations = cite::check(&text, searcher.corpus());
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "citations": citations }))?
        );
        return Ok(());
    }
    if citations.is_empty() {
        println!("no citations found");
    }
    for c in &citations {
        let mark = match c.status {
            CiteStatus::Valid => "✓ valid",
            CiteStatus::NotFound => "✗ not found",
            CiteStatus::NotInForce => "! not in force",
        };
        println!(
            "{mark}: {} -> 《{}》{}",
            c.raw,
            c.law,
            numerals::article_label(c.article, c.suffix)
        );
        if let Some(t) = &c.text {
            let short: String = t.chars().take(120).collect();
            println!(
                "    {short}{}",
                if t.chars().count() > 120 { "…" } else { "" }
            );
        }
    }
    Ok(())
}
