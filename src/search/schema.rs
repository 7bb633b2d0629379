//! The index schema and the Chinese tokenizer.
//!
//! Owns: field names and options, the schema version (bump it whenever the
//! schema, the tokenizer or the indexed text changes, so old indexes are
//! reported stale), and the jieba tokenizer shared by indexing and queries.

use std::sync::OnceLock;

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy_jieba::jieba_rs::{Jieba, TokenizeMode};

/// Version of the schema + tokenizer + indexed text. A mismatch makes an index stale.
pub const SCHEMA_VERSION: u32 = 1;

/// Name the tokenizer is registered under.
pub const TOKENIZER: &str = "lawbrain_zh";

/// Words jieba's default dictionary lacks or splits badly, with a frequency
/// high enough to win over the split. Legal terms people use in questions.
const EXTRA_WORDS: &[&str] = &[
    "劳动报酬",
    "经济补偿",
    "经济补偿金",
    "赔偿金",
    "违约金",
    "抚养费",
    "赡养费",
    "扶养费",
    "抚养权",
    "探望权",
    "彩礼",
    "家庭暴力",
    "家暴",
    "人身安全保护令",
    "法律援助",
    "诉讼时效",
    "工伤",
    "工伤保险",
    "借条",
    "欠条",
    "借款",
    "定金",
    "订金",
    "试用期",
    "加班费",
    "社会保险",
    "社保",
    "劳动仲裁",
    "劳务派遣",
    "竞业限制",
    "夫妻共同财产",
    "夫妻共同债务",
    "个人财产",
    "离婚冷静期",
    "遗嘱",
    "遗产",
    "继承人",
    "法定继承",
    "代位继承",
    "公证",
    "公证员",
    "公证机构",
    "人民调解",
    "调解协议",
    "调解委员会",
    "司法确认",
    "交通事故",
    "交强险",
    "物业费",
    "物业服务",
    "租赁合同",
    "押金",
    "不当得利",
    "无因管理",
    "精神损害",
    "医疗费",
    "误工费",
    "护理费",
    "残疾赔偿金",
    "死亡赔偿金",
    "无理由退货",
    "七日无理由退货",
    "惩罚性赔偿",
    "消费者",
    "经营者",
    "网络购物",
    "取保候审",
    "辩护人",
    "刑事拘留",
    "行政拘留",
    "行政复议",
    "行政处罚",
    "电信网络诈骗",
];

/// The shared jieba instance with the extra legal vocabulary.
pub fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(|| {
        let mut j = Jieba::new();
        for w in EXTRA_WORDS {
            j.add_word(w, Some(20_000), None);
        }
        j
    })
}

/// Whether a token carries meaning (not punctuation or whitespace).
fn is_word(s: &str) -> bool {
    s.chars().any(|c| c.is_alphanumeric())
}

/// Tokens of `text`: jieba search mode (whole words plus their sub-words),
/// lower-cased, punctuation dropped. `position` is the char offset of the
/// token start, so phrase queries use char distances.
pub fn tokenize(text: &str) -> Vec<Token> {
    jieba()
        .tokenize(text, TokenizeMode::Search, true)
        .into_iter()
        .filter(|t| is_word(t.word))
        .map(|t| {
            let from = t.word.as_ptr() as usize - text.as_ptr() as usize;
            Token {
                offset_from: from,
                offset_to: from + t.word.len(),
                position: t.start,
                text: t.word.to_lowercase(),
                position_length: t.end - t.start,
            }
        })
        .collect()
}

/// Whole words of `text` (jieba default mode, no sub-words), punctuation dropped,
/// with their char start positions. Used for phrase queries.
pub fn words(text: &str) -> Vec<(usize, String)> {
    jieba()
        .tokenize(text, TokenizeMode::Default, true)
        .into_iter()
        .filter(|t| is_word(t.word))
        .map(|t| (t.start, t.word.to_lowercase()))
        .collect()
}

/// The tantivy tokenizer around [`tokenize`].
#[derive(Clone, Default)]
pub struct ZhTokenizer;

/// Token stream of [`ZhTokenizer`].
pub struct ZhTokenStream {
    tokens: Vec<Token>,
    index: usize,
    empty: Token,
}

impl TokenStream for ZhTokenStream {
    fn advance(&mut self) -> bool {
        if self.index < self.tokens.len() {
            self.index += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        self.index
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .unwrap_or(&self.empty)
    }

    fn token_mut(&mut self) -> &mut Token {
        match self.index.checked_sub(1) {
            Some(i) if i < self.tokens.len() => &mut self.tokens[i],
            _ => &mut self.empty,
        }
    }
}

impl Tokenizer for ZhTokenizer {
    type TokenStream<'a> = ZhTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ZhTokenStream {
        ZhTokenStream {
            tokens: tokenize(text),
            index: 0,
            empty: Token::default(),
        }
    }
}

/// The fields of the index.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Article text (tokenized, stored).
    pub text: Field,
    /// Law name and aliases (tokenized).
    pub law_name: Field,
    /// 编/章/节 headings (tokenized).
    pub heads: Field,
    /// Full law name, raw (filter).
    pub law: Field,
    /// Level, raw (filter).
    pub level: Field,
    /// Region, raw (filter); empty for national norms.
    pub region: Field,
    /// Status, raw (filter).
    pub status: Field,
    /// Article kind, raw (filter).
    pub kind: Field,
    /// Article key `law#n`, raw, stored.
    pub key: Field,
    /// Article label, stored.
    pub label: Field,
    /// Position of the article in the corpus (articles, then other versions).
    pub doc: Field,
}

/// Build the schema and its field handles.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let positions = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let freqs = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    let text = b.add_text_field(
        "text",
        TextOptions::default()
            .set_indexing_options(positions)
            .set_stored(),
    );
    let law_name = b.add_text_field(
        "law_name",
        TextOptions::default().set_indexing_options(freqs.clone()),
    );
    let heads = b.add_text_field("heads", TextOptions::default().set_indexing_options(freqs));
    let law = b.add_text_field("law", STRING | STORED);
    let level = b.add_text_field("level", STRING | STORED);
    let region = b.add_text_field("region", STRING);
    let status = b.add_text_field("status", STRING | STORED);
    let kind = b.add_text_field("kind", STRING);
    let key = b.add_text_field("key", STRING | STORED);
    let label = b.add_text_field("label", STORED);
    let doc = b.add_u64_field("doc", FAST | STORED | INDEXED);
    let fields = Fields {
        text,
        law_name,
        heads,
        law,
        level,
        region,
        status,
        kind,
        key,
        label,
        doc,
    };
    (b.build(), fields)
}

/// Register the tokenizer on an index.
pub fn register(index: &tantivy::Index) {
    index.tokenizers().register(TOKENIZER, ZhTokenizer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_keeps_legal_words_and_drops_punctuation() {
        let toks: Vec<String> = tokenize("老板拖欠劳动报酬，怎么办？")
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert!(toks.contains(&"劳动报酬".to_string()), "{toks:?}");
        assert!(toks.contains(&"拖欠".to_string()), "{toks:?}");
        assert!(!toks.iter().any(|t| t == "，" || t == "？"), "{toks:?}");
    }

    #[test]
    fn positions_are_char_offsets() {
        let w = words("申请人身安全保护令");
        let last = w.last().expect("words");
        assert_eq!(last.1, "人身安全保护令");
        assert_eq!(last.0, 2);
    }
}
