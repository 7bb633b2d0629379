"""Check an `lawbrain eval --json` result: valid JSON, every metric in [0, 1],
and the thresholds agreed in the search and triage issues."""
import json
import sys

THRESHOLDS = {  # no-LLM gate on ../shared/eval/dev.jsonl
    ("retrieval", "hit_at_5"): 0.60,
    ("triage", "accuracy"): 0.70,
    ("review", "recall"): 0.90,
}


def fractions(obj, path=""):
    """Yield (path, value) for every number that must be a fraction."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("confusion", "latency", "cases", "counts", "per_case"):
                continue
            yield from fractions(v, f"{path}.{k}")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    llm = "--llm" in sys.argv
    with open(args[0], encoding="utf-8") as f:
        report = json.load(f)
    metrics = report.get("metrics", report)
    groups = {g: metrics[g] for g in ("retrieval", "triage", "review", "answer") if g in metrics}
    bad = [(p, v) for p, v in fractions(groups) if not 0.0 <= v <= 1.0]
    if bad:
        sys.exit(f"metrics outside [0,1]: {bad}")
    if llm:
        ans = metrics.get("answer")
        if not ans:
            sys.exit("no answer metrics in an LLM run")
        print("answer metrics:", json.dumps(ans, ensure_ascii=False))
        return
    failed = []
    for (group, key), floor in THRESHOLDS.items():
        value = metrics[group][key]
        print(f"{group}.{key} = {value:.3f} (floor {floor})")
        if value < floor:
            failed.append(f"{group}.{key}")
    if failed:
        sys.exit(f"below threshold: {failed}")


if __name__ == "__main__":
    main()
