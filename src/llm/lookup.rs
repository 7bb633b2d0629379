//! Prompt-lookup drafting: guess the next tokens by finding the tail of the
//! text so far earlier in the prompt or the answer and proposing what followed
//! it there.
//!
//! The drafter copies: it explains the articles in its prompt and often
//! quotes them. A guess costs little to check (the model scores all guessed
//! tokens in one forward pass, which reads the weights once, like a single
//! step), and every token the model itself would have chosen is kept, so the
//! output is the model's own; only the number of weight passes falls. No
//! second model is involved.

/// Longest tail matched (longer matches are tried first: they guess better).
const MAX_NGRAM: usize = 4;
/// Shortest tail matched. Shorter tails match too often to guess well
/// (measured: two tokens cost more wasted passes than they saved).
const MIN_NGRAM: usize = 3;

/// Up to `max_len` tokens that followed the latest earlier occurrence of the
/// last `n` tokens of `history` (`n` from [`MAX_NGRAM`] down to
/// [`MIN_NGRAM`]); empty when the tail occurs nowhere earlier.
pub fn draft(history: &[u32], max_len: usize) -> Vec<u32> {
    if max_len == 0 {
        return Vec::new();
    }
    for n in (MIN_NGRAM..=MAX_NGRAM).rev() {
        if history.len() <= n {
            continue;
        }
        let tail = &history[history.len() - n..];
        // Latest start first, excluding the tail itself.
        for start in (0..history.len() - n).rev() {
            if &history[start..start + n] == tail {
                let from = start + n;
                let to = (from + max_len).min(history.len());
                if from < to {
                    return history[from..to].to_vec();
                }
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposes_what_followed_the_tail_earlier() {
        // "... 6 7 8 9 10 11 ... 6 7 8" -> 9 10 11
        let h = [1, 6, 7, 8, 9, 10, 11, 2, 3, 6, 7, 8];
        assert_eq!(draft(&h, 3), vec![9, 10, 11]);
        assert_eq!(draft(&h, 2), vec![9, 10]);
        assert!(draft(&h, 0).is_empty());
    }

    #[test]
    fn prefers_the_longest_and_latest_match() {
        // Tail "4 5 7 8": the 4-gram at index 1 (-> 40) beats the later
        // 3-gram "5 7 8" at index 6 (-> 50).
        let h = [0, 4, 5, 7, 8, 40, 5, 7, 8, 50, 4, 5, 7, 8];
        assert_eq!(draft(&h, 1), vec![40]);
        // Two matches of the same length: the latest wins.
        let h = [3, 4, 5, 10, 3, 4, 5, 20, 3, 4, 5];
        assert_eq!(draft(&h, 1), vec![20]);
    }

    #[test]
    fn no_guess_without_an_earlier_occurrence() {
        assert!(draft(&[1, 2, 3, 4, 5], 4).is_empty());
        assert!(draft(&[1], 4).is_empty());
        assert!(draft(&[], 4).is_empty());
        // A repeated pair is not enough (MIN_NGRAM = 3).
        assert!(draft(&[7, 8, 1, 2, 7, 8], 4).is_empty());
    }

    #[test]
    fn the_guess_stops_at_the_end_of_the_history() {
        // "1 2 3" last seen at the start: the guess runs to the end.
        let h = [1, 2, 3, 1, 2, 3];
        assert_eq!(draft(&h, 8), vec![1, 2, 3]);
    }
}
