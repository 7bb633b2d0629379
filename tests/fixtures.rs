//! The regulation files written for the tests (`tests/fixtures`), which stand
//! in for `../shared` on a plain clone: they import cleanly, at the level of
//! their folder, with every article numbered.

mod common;

use lawbrain::corpus::{Corpus, Level, Lookup};

#[test]
fn fixture_regulations_import_at_their_levels() {
    let dir = common::fixture_regulations();
    let mut c = Corpus {
        as_of: common::AS_OF.into(),
        ..Default::default()
    };
    let report = c.import_local(&dir).expect("importing the fixtures");
    assert_eq!(report.files, 3, "{report:?}");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    for (title, level, articles) in [
        ("测试用工资保障示例条例", Level::Administrative, 5),
        ("示例省测试公共法律服务条例", Level::Local, 4),
        (
            "最高人民法院关于测试用示例问题的解释",
            Level::JudicialInterpretation,
            3,
        ),
    ] {
        let law = c.resolve_law(title).unwrap_or_else(|| panic!("{title}"));
        assert_eq!(law.level, level, "{title}");
        let n = c.articles.iter().filter(|a| a.law == title).count();
        assert_eq!(n, articles, "{title}");
        // Each says it is not real law.
        let Lookup::Current(first) = c.lookup(title, 1, 0) else {
            panic!("{title} 第一条")
        };
        assert!(first.text.contains("不是"), "{}", first.text);
    }
    let Lookup::Current(a) = c.lookup("测试用工资保障示例条例", 2, 0) else {
        panic!("第二条")
    };
    assert_eq!(a.text.lines().count(), 2, "two paragraphs: {}", a.text);
}
