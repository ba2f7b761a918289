//! Adjacent word pairs, so that a phrase is looked up as a term instead of walked through the
//! positions of every document holding all its words (Elasticsearch's `index_phrases` does the
//! same with shingles). Two common words in quotes — "函数图像" — otherwise cost a position
//! check in tens of thousands of documents.
//!
//! The index holds, beside every word, every pair of words that touch: in 函数的图像 the pairs
//! 函数␟的 and 的␟图像, and with search mode's overlapping words each word paired with every word
//! that starts where it ends. A query's phrase whose words touch is looked up by its pairs: two
//! words as one term, three as a phrase of two pairs. A pair stands at its first word's
//! position, and positions count characters (see [`super::words`]), so a phrase of pairs
//! matches exactly where the phrase of its words would. A phrase whose words do not touch (a
//! space or punctuation between them, dropped as noise) keeps its words and is matched as
//! before.

use std::cmp::Reverse;

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Joins the two words of a pair. No analyzer leaves it inside a word: jieba cuts control
/// characters off as words of their own, and the noise filter does not know it, so a text that
/// holds one makes a one-character word, never part of a longer one.
pub const JOIN: char = '\u{1f}';

/// The words of a term: the term itself, or a pair's two words.
pub fn words_of(term: &str) -> impl Iterator<Item = &str> {
    term.split(JOIN)
}

/// What the filter emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pairs {
    /// Every word, in position order, and after each word its pairs with the words that start
    /// where it ends.
    Index,
    /// For words that each touch the next, their pairs only; otherwise the words.
    Query,
}

impl TokenFilter for Pairs {
    type Tokenizer<T: Tokenizer> = PairTokenizer<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> PairTokenizer<T> {
        PairTokenizer {
            inner,
            mode: self,
            words: Vec::new(),
            text: String::new(),
        }
    }
}

/// The filter over a tokenizer. The buffers are kept between texts (a tokenizer analyses many).
#[derive(Clone)]
pub struct PairTokenizer<T> {
    inner: T,
    mode: Pairs,
    words: Vec<Word>,
    text: String,
}

/// One word of the text, its text held in the tokenizer's buffer.
#[derive(Clone, Copy, Debug)]
struct Word {
    position: usize,
    end: usize,
    offset_from: usize,
    offset_to: usize,
    text_from: usize,
    text_to: usize,
}

impl<T: Tokenizer> Tokenizer for PairTokenizer<T> {
    type TokenStream<'a> = PairStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PairStream<'a> {
        self.words.clear();
        self.text.clear();
        let mut stream = self.inner.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            let text_from = self.text.len();
            self.text.push_str(&token.text);
            self.words.push(Word {
                position: token.position,
                end: token.position + token.position_length.max(1),
                offset_from: token.offset_from,
                offset_to: token.offset_to,
                text_from,
                text_to: self.text.len(),
            });
        }
        // tantivy stores a term's positions in a document as deltas of the order they come in:
        // they must come in ascending order (search mode's longer words come last otherwise).
        self.words
            .sort_by_key(|w| (w.position, Reverse(w.end), w.offset_from));
        let mode = match self.mode {
            Pairs::Query
                if self.words.len() > 1
                    && self.words.windows(2).all(|w| w[0].end == w[1].position) =>
            {
                Emit::QueryPairs
            }
            Pairs::Query => Emit::Words,
            Pairs::Index => Emit::WordsAndPairs,
        };
        PairStream {
            words: &self.words,
            text: &self.text,
            mode,
            next: 0,
            pairs: 0..0,
            first: 0,
            token: Token::default(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Emit {
    Words,
    QueryPairs,
    WordsAndPairs,
}

pub struct PairStream<'a> {
    words: &'a [Word],
    text: &'a str,
    mode: Emit,
    /// The next word to emit (or, for query pairs, the next pair's first word).
    next: usize,
    /// Index mode: the words still to pair with `first`.
    pairs: std::ops::Range<usize>,
    first: usize,
    token: Token,
}

impl PairStream<'_> {
    fn set_word(&mut self, w: Word) {
        self.token.text.clear();
        self.token.text.push_str(&self.text[w.text_from..w.text_to]);
        self.token.position = w.position;
        self.token.position_length = w.end - w.position;
        self.token.offset_from = w.offset_from;
        self.token.offset_to = w.offset_to;
    }

    fn set_pair(&mut self, a: Word, b: Word) {
        self.set_word(a);
        self.token.text.push(JOIN);
        self.token.text.push_str(&self.text[b.text_from..b.text_to]);
        self.token.position_length = b.end - a.position;
        self.token.offset_to = b.offset_to;
    }
}

impl TokenStream for PairStream<'_> {
    fn advance(&mut self) -> bool {
        match self.mode {
            Emit::Words => {
                let Some(&w) = self.words.get(self.next) else {
                    return false;
                };
                self.next += 1;
                self.set_word(w);
                true
            }
            Emit::QueryPairs => {
                let (Some(&a), Some(&b)) =
                    (self.words.get(self.next), self.words.get(self.next + 1))
                else {
                    return false;
                };
                self.next += 1;
                self.set_pair(a, b);
                true
            }
            Emit::WordsAndPairs => {
                if let Some(k) = self.pairs.next() {
                    let (a, b) = (self.words[self.first], self.words[k]);
                    self.set_pair(a, b);
                    return true;
                }
                let Some(&w) = self.words.get(self.next) else {
                    return false;
                };
                // The words that start where this one ends: a run, as the words are sorted.
                let from = self.words.partition_point(|x| x.position < w.end);
                let to = from + self.words[from..].partition_point(|x| x.position == w.end);
                self.first = self.next;
                self.pairs = from..to;
                self.next += 1;
                self.set_word(w);
                true
            }
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TextAnalyzer;

    fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.replace(JOIN, "|"), t.position));
        }
        out
    }

    #[test]
    fn the_index_pairs_every_word_with_the_words_that_start_where_it_ends() {
        let indexed = tokens(crate::search::analyzer(), "二次函数的图像");
        for (term, position) in [
            ("二次", 0),
            ("二次函数", 0),
            ("函数", 2),
            ("二次|函数", 0),
            ("二次函数|的", 0),
            ("函数|的", 2),
            ("的|图像", 4),
            ("图像", 5),
        ] {
            assert!(
                indexed.contains(&(term.to_owned(), position)),
                "{term}@{position} in {indexed:?}"
            );
        }
        assert!(!indexed.iter().any(|(t, _)| t == "二次|的"), "{indexed:?}");
        let positions: Vec<usize> = indexed.iter().map(|(_, p)| *p).collect();
        assert!(positions.is_sorted(), "{indexed:?}");
    }

    #[test]
    fn a_query_of_touching_words_is_their_pairs_and_of_separated_words_the_words() {
        let query = crate::search::query_analyzer;
        assert_eq!(
            tokens(query(), "函数的图像"),
            [("函数|的".to_owned(), 0), ("的|图像".to_owned(), 2)]
        );
        assert_eq!(tokens(query(), "光合作用"), [("光合作用".to_owned(), 0)]);
        // The space between is noise, dropped: the words do not touch.
        assert_eq!(
            tokens(query(), "hello world"),
            [("hello".to_owned(), 0), ("world".to_owned(), 6)]
        );
        let indexed = tokens(crate::search::analyzer(), "hello world");
        assert!(!indexed.iter().any(|(t, _)| t.contains('|')), "{indexed:?}");
    }

    #[test]
    fn a_word_seen_again_earlier_in_the_text_is_emitted_in_position_order() {
        // Search mode's longer words inside a compound (直线运动 in 匀速直线运动) come after
        // the words of the whole text; sorted, a later plain 直线运动 follows them.
        let indexed = tokens(crate::search::analyzer(), "匀速直线运动和直线运动");
        let at: Vec<usize> = indexed
            .iter()
            .filter(|(t, _)| t == "直线运动")
            .map(|(_, p)| *p)
            .collect();
        assert_eq!(at, [2, 7], "{indexed:?}");
        let positions: Vec<usize> = indexed.iter().map(|(_, p)| *p).collect();
        assert!(positions.is_sorted(), "{indexed:?}");
    }
}
