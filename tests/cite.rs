//! Citation checking on the real corpus.

mod common;

use lawbrain::cite::{self, CiteStatus};

#[test]
fn flags_invented_articles_and_passes_real_ones() {
    let c = common::national_corpus();
    let text = "依据《中华人民共和国民法典》第一千零七十九条第二款，可以起诉离婚；民法典第1438条另有规定。\
                劳动合同法第99条规定了赔偿，劳动合同法82条规定了二倍工资。";
    let cites = cite::check(text, c);
    let got: Vec<(String, u32, CiteStatus)> = cites
        .iter()
        .map(|x| (x.law.clone(), x.article, x.status))
        .collect();
    assert_eq!(
        got,
        vec![
            ("中华人民共和国民法典".to_string(), 1079, CiteStatus::Valid),
            (
                "中华人民共和国民法典".to_string(),
                1438,
                CiteStatus::NotFound
            ),
            (
                "中华人民共和国劳动合同法".to_string(),
                99,
                CiteStatus::NotFound
            ),
            (
                "中华人民共和国劳动合同法".to_string(),
                82,
                CiteStatus::Valid
            ),
        ]
    );
    assert_eq!(cites[0].paragraph, Some(2));
    assert!(cites[0].text.as_deref().unwrap().contains("离婚"));
    assert!(cites[1].text.is_none());
    for x in &cites {
        assert_eq!(&text[x.start..x.end], x.raw);
    }
    assert_eq!(
        cites[0].raw,
        "《中华人民共和国民法典》第一千零七十九条第二款"
    );
    assert_eq!(cites[1].raw, "民法典第1438条");
    assert_eq!(cites[3].raw, "劳动合同法82条");
}

#[test]
fn similar_law_names_are_not_confused() {
    let c = common::national_corpus();
    let cites = cite::check("根据劳动法第四十四条和劳动合同法第四十七条", c);
    assert_eq!(cites.len(), 2);
    assert_eq!(cites[0].law, "中华人民共和国劳动法");
    assert_eq!(cites[1].law, "中华人民共和国劳动合同法");
    assert!(cites.iter().all(|x| x.status == CiteStatus::Valid));
}

#[test]
fn later_articles_refer_to_the_last_named_law() {
    let c = common::national_corpus();
    let cites = cite::check("《法律援助法》第三十一条、第三十二条以及该法第九十九条", c);
    assert_eq!(cites.len(), 3);
    assert!(cites.iter().all(|x| x.law == "中华人民共和国法律援助法"));
    assert_eq!(cites[1].status, CiteStatus::Valid);
    assert_eq!(cites[2].status, CiteStatus::NotFound);
    // A bare 第N条 far from any law is not attributed to one.
    assert!(cite::check("请看第五条。", c).is_empty());
}

#[test]
fn versions_not_in_force_and_unknown_laws() {
    let c = common::national_corpus();
    // The new 农业法 (in force 2027-01-01) has more articles than the current one.
    let current_max = c
        .articles_of("中华人民共和国农业法")
        .map(|a| a.article)
        .max()
        .unwrap();
    let text = format!("农业法第{}条", current_max + 1);
    let cites = cite::check(&text, c);
    assert_eq!(cites.len(), 1);
    assert_eq!(cites[0].status, CiteStatus::NotInForce, "{cites:?}");
    assert!(cites[0].text.is_some());
    // Repealed law.
    let cites = cite::check("《中华人民共和国乡镇企业法》第一条", c);
    assert_eq!(cites[0].status, CiteStatus::NotInForce);
    // An invented law in 《》 is reported as not found, with its name as written.
    let cites = cite::check("《中华人民共和国劳动保护法》第五条", c);
    assert_eq!(cites.len(), 1);
    assert_eq!(cites[0].status, CiteStatus::NotFound);
    assert_eq!(cites[0].law, "中华人民共和国劳动保护法");
    // Criminal law with 之一.
    let cites = cite::check("刑法第一百三十三条之一", c);
    assert_eq!(
        (cites[0].article, cites[0].suffix, cites[0].status),
        (133, 1, CiteStatus::Valid)
    );
}

#[test]
fn json_shape_has_the_documented_fields() {
    let c = common::national_corpus();
    let cites = cite::check("民法典第1079条", c);
    let v = serde_json::to_value(&cites[0]).unwrap();
    for k in ["law", "article", "status", "text"] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    assert_eq!(v["status"], "valid");
}
