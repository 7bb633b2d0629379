//! The local LLM engine on the real default model (Qwen2.5-Coder-1.5B Q4_K_M):
//! tokenizer, determinism, streaming, cancellation, deadlines, prefix reuse,
//! and model resolution through an offline hf-hub cache.
//! Generated lengths are kept short: CI has 2 cores.

mod common;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use lawbrain::llm::{
    Backend, CandleEngine, ChatMessage, EngineOptions, GenParams, ModelSource, StopReason,
};

fn engine() -> &'static CandleEngine {
    static E: OnceLock<CandleEngine> = OnceLock::new();
    E.get_or_init(|| {
        CandleEngine::load(&common::default_model(), &EngineOptions::default())
            .expect("loading model")
    })
}

fn greedy(max_tokens: usize) -> GenParams {
    GenParams {
        max_tokens,
        ..GenParams::default()
    }
}

fn msgs(q: &str) -> Vec<ChatMessage> {
    vec![
        ChatMessage::new("system", "你是一个简洁的助手，用中文回答。"),
        ChatMessage::new("user", q),
    ]
}

/// Expected ids were obtained once from an independent tokenizer: the Python
/// `tokenizers` 0.23.3 wheel, configured like Qwen2's published
/// tokenizer.json (NFC, the Qwen2 split regex, byte-level BPE), with vocab and
/// merges read from the same GGUF by a hand-written Python GGUF reader.
#[test]
fn tokenizer_matches_pinned_ids() {
    let t = engine().tokens();
    assert_eq!(
        t.encode("用人单位拖欠工资三个月，我可以解除劳动合同并要求经济补偿吗？")
            .expect("encode"),
        vec![
            109695, 114850, 104254, 108213, 3837, 109944, 106255, 110838, 62926, 101882, 99346,
            105370, 101037, 11319
        ]
    );
    assert_eq!(
        t.encode("<|im_start|>user\n《中华人民共和国劳动合同法》第38条 2024年 OK<|im_end|>\n")
            .expect("encode"),
        vec![
            151644, 872, 198, 26940, 105492, 104773, 110838, 24339, 25067, 29437, 18, 23, 38989,
            220, 17, 15, 17, 19, 7948, 10402, 151645, 198
        ]
    );
    let s = "拖欠工资，怎么办？ 第38条";
    assert_eq!(t.decode(&t.encode(s).expect("encode")), s);
    assert!(
        t.is_eog(151645) && t.is_eog(151643),
        "im_end and endoftext stop generation"
    );
    assert!(!t.is_eog(151644));
}

#[test]
fn greedy_is_deterministic_and_streams_whole_text() {
    let e = engine();
    let mut pieces = Vec::new();
    let a = e
        .generate(
            &msgs("用一句话说明什么是劳动合同。"),
            &greedy(16),
            &mut |p| {
                pieces.push(p.to_string());
                true
            },
        )
        .expect("generate");
    assert!(!a.text.trim().is_empty());
    assert_eq!(
        pieces.concat(),
        a.text,
        "streamed pieces concatenate to the full text"
    );
    assert!(
        pieces.iter().all(|p| !p.contains('\u{FFFD}')),
        "no broken UTF-8 in pieces: {pieces:?}"
    );
    assert!(a.stats.gen_tokens > 0 && a.stats.gen_tokens <= 16);
    assert!(a.stats.prompt_tokens > 10);
    let b = e
        .generate(
            &msgs("用一句话说明什么是劳动合同。"),
            &greedy(16),
            &mut |_| true,
        )
        .expect("generate");
    assert_eq!(a.text, b.text, "greedy generation is deterministic");
    assert!(
        b.stats.cached_prompt_tokens > 0,
        "the shared prefix was reused: {:?}",
        b.stats
    );
}

#[test]
fn cancel_and_deadline_stop_generation() {
    let e = engine();
    let mut n = 0;
    let g = e
        .generate(
            &msgs("请列出十种常见的劳动纠纷。"),
            &greedy(64),
            &mut |_| {
                n += 1;
                n < 2
            },
        )
        .expect("generate");
    assert_eq!(g.stop, StopReason::Cancelled);
    assert_eq!(n, 2);
    assert!(g.stats.gen_tokens <= 4, "{:?}", g.stats);

    let past = GenParams {
        deadline: Some(Instant::now() - Duration::from_millis(1)),
        ..greedy(64)
    };
    let g = e
        .generate(&msgs("你好"), &past, &mut |_| true)
        .expect("generate");
    assert_eq!(g.stop, StopReason::Deadline);
    assert!(g.text.is_empty());
}

#[test]
fn sampling_with_a_seed_is_reproducible() {
    let e = engine();
    let p = GenParams {
        temperature: 0.8,
        top_p: Some(0.9),
        seed: 7,
        ..greedy(10)
    };
    let a = e
        .generate(&msgs("随便说一个中国城市。"), &p, &mut |_| true)
        .expect("generate");
    let b = e
        .generate(&msgs("随便说一个中国城市。"), &p, &mut |_| true)
        .expect("generate");
    assert_eq!(a.text, b.text);
}

#[test]
fn hf_cache_resolves_offline() {
    let model = common::default_model();
    let tmp = tempfile::tempdir().expect("tmp");
    let repo = tmp.path().join("models--lawbrain-test--tiny-GGUF");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    std::fs::create_dir_all(repo.join("refs")).expect("mkdir");
    std::fs::create_dir_all(repo.join("snapshots").join(commit)).expect("mkdir");
    std::fs::write(repo.join("refs").join("main"), commit).expect("ref");
    let snap = repo.join("snapshots").join(commit).join("model.gguf");
    std::os::unix::fs::symlink(&model, &snap).expect("symlink");
    let got = lawbrain::llm::resolve(
        &ModelSource::Hf("lawbrain-test/tiny-GGUF:model.gguf".into()),
        tmp.path(),
        Some(tmp.path()),
    )
    .expect("resolved from the cache");
    assert_eq!(got, snap);
    // Offline mode: a file that is not cached is an error naming the cache, not a download.
    std::env::set_var("HF_HUB_OFFLINE", "1");
    let err =
        lawbrain::llm::files::hf_file("lawbrain-test/tiny-GGUF:missing.gguf", Some(tmp.path()))
            .expect_err("not cached");
    assert!(err.to_string().contains("HF_HUB_OFFLINE"), "{err}");
}

/// The small profile is mostly Q5_0, which candle has no SIMD kernel for on
/// x86; it is re-encoded to Q8_0 once and cached. The re-encoded file has no
/// Q5 tensors left and gives the same greedy text as the original.
#[test]
fn small_profile_reencode_keeps_greedy_output() {
    use candle_core::quantized::{gguf_file, GgmlDType};
    let src = common::small_model();
    let fast = lawbrain::llm::fast_variant(&src).expect("re-encode");
    assert_ne!(fast, src, "a Q5_0 model gets a re-encoded variant");
    let mut f = std::fs::File::open(&fast).expect("open re-encoded");
    let ct = gguf_file::Content::read(&mut f).expect("read re-encoded GGUF");
    assert!(ct
        .tensor_infos
        .values()
        .all(|t| !matches!(t.ggml_dtype, GgmlDType::Q5_0 | GgmlDType::Q5_1)));
    let load = |keep_quantization| {
        CandleEngine::load(
            &src,
            &EngineOptions {
                keep_quantization,
                ..EngineOptions::default()
            },
        )
        .expect("load small model")
    };
    let q = msgs("劳动合同应当包括哪些内容？");
    let original = load(true)
        .generate(&q, &greedy(12), &mut |_| true)
        .expect("generate on Q5_0");
    let reencoded = load(false)
        .generate(&q, &greedy(12), &mut |_| true)
        .expect("generate on Q8_0");
    assert!(!original.text.trim().is_empty());
    assert_eq!(original.text, reencoded.text);
}

/// Guessing ahead by prompt lookup changes how many forward passes are made,
/// not what the model says: a reply that quotes its prompt comes out the same
/// with guessing on and off (greedy), most guesses are kept, and the limits
/// and streaming behave as without guesses.
#[test]
fn guessing_ahead_keeps_the_models_text() {
    let e = engine();
    let article = "第三十八条 用人单位有下列情形之一的，劳动者可以解除劳动合同：\
        （一）未按照劳动合同约定提供劳动保护或者劳动条件的；\
        （二）未及时足额支付劳动报酬的；\
        （三）未依法为劳动者缴纳社会保险费的。";
    let m = msgs(&format!(
        "下面是一条法律原文：\n{article}\n请逐字复述这条原文。"
    ));
    let run = |draft_tokens: usize, max_tokens: usize| {
        let mut pieces = String::new();
        let g = e
            .generate(
                &m,
                &GenParams {
                    draft_tokens,
                    ..greedy(max_tokens)
                },
                &mut |p| {
                    pieces.push_str(p);
                    true
                },
            )
            .expect("generate");
        assert_eq!(pieces, g.text, "streamed pieces make the text");
        g
    };
    let plain = run(0, 48);
    assert_eq!(plain.stats.draft_tokens, 0);
    let guessed = run(8, 48);
    assert_eq!(
        guessed.text, plain.text,
        "guessing changed the text: {:?}",
        guessed.stats
    );
    assert_eq!(guessed.stats.gen_tokens, plain.stats.gen_tokens);
    assert!(
        plain.text.contains("未及时足额支付劳动报酬"),
        "the model quotes the article: {}",
        plain.text
    );
    if lawbrain::llm::guessing_available() {
        assert!(
            guessed.stats.draft_accepted * 2 > guessed.stats.draft_tokens
                && guessed.stats.draft_accepted >= 10,
            "a quoting reply keeps most guesses: {:?}",
            guessed.stats
        );
    } else {
        assert_eq!(guessed.stats.draft_tokens, 0, "no guessing on this CPU");
    }
    // Every token after the first comes from a forward pass or a kept guess
    // (the last one needs a pass only when the model stopped on its own),
    // and each pass records the rows it fed: one plus the guesses.
    for g in [&plain, &guessed] {
        let last_pass = usize::from(g.stop == lawbrain::llm::StopReason::Eos);
        assert_eq!(
            g.stats.passes.len() + g.stats.draft_accepted,
            g.stats.gen_tokens - 1 + last_pass,
            "{:?}",
            g.stats
        );
        let fed: usize = g.stats.passes.iter().map(|p| p.0).sum();
        assert_eq!(fed, g.stats.passes.len() + g.stats.draft_tokens);
        assert!(g.stats.passes.iter().all(|p| p.1 > 0.0));
    }
    assert!(plain.stats.passes.iter().all(|p| p.0 == 1));
    // Asking for more guesses than a check keeps exact is cut, not obeyed.
    let many = run(1000, 48);
    assert_eq!(many.text, plain.text, "{:?}", many.stats);
    // A limit that falls inside a run of guesses still holds exactly.
    let short = run(8, 7);
    assert_eq!(short.stats.gen_tokens, 7);
    assert!(plain.text.starts_with(&short.text), "{:?}", short.text);
}
