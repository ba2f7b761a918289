//! Chinese words for the index and for queries: jieba with its general dictionary and
//! Kongjian's education word list (`assets/search/edu-words.txt`, 学科词表), so that the words of
//! lesson plans and subjects — 教学目标, 二次函数, 匀速直线运动 — are words, not phrases of their
//! parts.
//!
//! One dictionary for the process, shared by every tokenizer (tantivy clones a tokenizer for
//! every field it analyses; tantivy-jieba's own tokenizer would clone the whole dictionary with
//! it).
//!
//! In search mode (the index) a word is written with its parts, as jieba does — the 2- and
//! 3-character words inside it — and also with the longer dictionary words inside it, which
//! jieba's search mode leaves out: a text with 匀速直线运动 is still found by 直线运动.

use std::sync::LazyLock;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy_jieba::jieba_rs::{self, Jieba};

/// The education word list, one word per line, `#` comments.
const EDU_WORDS: &str = include_str!("../../../assets/search/edu-words.txt");

static DICTIONARY: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    for word in edu_words() {
        // No frequency: jieba suggests one high enough to keep the word whole.
        jieba.add_word(word, None, None);
    }
    jieba
});

/// The words of the education list.
pub fn edu_words() -> impl Iterator<Item = &'static str> {
    EDU_WORDS
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|word| !word.is_empty())
}

/// jieba over the shared dictionary: search mode for the index, default mode for queries.
#[derive(Clone, Copy)]
pub struct Words {
    pub search_mode: bool,
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        let jieba = &*DICTIONARY;
        let mut words = if self.search_mode {
            jieba.cut_for_search(text, true)
        } else {
            jieba.cut(text, true)
        };
        if self.search_mode {
            let longer: Vec<jieba_rs::Token<'a>> = words
                .iter()
                .filter(|w| w.end - w.start > 4)
                .flat_map(|w| longer_words_inside(jieba, w))
                .collect();
            words.extend(longer);
        }
        WordStream {
            words,
            next: 0,
            token: Token::default(),
        }
    }
}

/// The dictionary words of four or more characters strictly inside `word` (jieba's search mode
/// gives those of two and three).
fn longer_words_inside<'a>(jieba: &Jieba, word: &jieba_rs::Token<'a>) -> Vec<jieba_rs::Token<'a>> {
    let chars: Vec<(usize, char)> = word.word.char_indices().collect();
    let count = chars.len();
    let byte_at = |k: usize| chars.get(k).map_or(word.word.len(), |(at, _)| *at);
    let mut found = Vec::new();
    for len in 4..count {
        for i in 0..=count - len {
            let part = &word.word[byte_at(i)..byte_at(i + len)];
            if jieba.has_word(part) {
                found.push(jieba_rs::Token {
                    word: part,
                    start: word.start + i,
                    end: word.start + i + len,
                    byte_start: word.byte_start + byte_at(i),
                    byte_end: word.byte_start + byte_at(i + len),
                });
            }
        }
    }
    found
}

pub struct WordStream<'a> {
    words: Vec<jieba_rs::Token<'a>>,
    next: usize,
    token: Token,
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(word) = self.words.get(self.next) else {
            return false;
        };
        self.next += 1;
        self.token.offset_from = word.byte_start;
        self.token.offset_to = word.byte_end;
        // Positions count characters, so a phrase of the parts of a word lines up with them.
        self.token.position = word.start;
        self.token.position_length = word.end - word.start;
        self.token.text.clear();
        self.token.text.push_str(word.word);
        true
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

    fn words(search_mode: bool, text: &str) -> Vec<String> {
        let mut tokenizer = Words { search_mode };
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn lesson_plan_and_subject_words_are_words_for_queries() {
        assert_eq!(words(false, "教学目标"), ["教学目标"]);
        assert_eq!(
            words(false, "二次函数的顶点坐标"),
            ["二次函数", "的", "顶点坐标"]
        );
        assert_eq!(words(false, "匀速直线运动"), ["匀速直线运动"]);
    }

    #[test]
    fn the_index_holds_a_word_with_its_parts_long_and_short() {
        let indexed = words(true, "匀速直线运动");
        for part in ["匀速直线运动", "直线运动", "匀速", "直线", "运动"] {
            assert!(indexed.iter().any(|w| w == part), "{part} in {indexed:?}");
        }
        let indexed = words(true, "二次函数");
        for part in ["二次函数", "二次", "函数"] {
            assert!(indexed.iter().any(|w| w == part), "{part} in {indexed:?}");
        }
    }

    #[test]
    fn every_listed_word_is_one_query_word() {
        for word in edu_words() {
            assert_eq!(words(false, word), [word], "{word}");
        }
    }
}
