//! A list that grows in fixed-size chunks: pushing never moves what is
//! already there, and every chunk is allocated once at its full size.
//!
//! The validation state keeps one entry per event or entity in such lists.
//! As `Vec`s they doubled: each doubling allocated fresh memory twice the
//! size, copied the old half into it, and faulted every new page in while
//! an append waited (BENCHMARKS.md, append, "Seventh update").

/// Entries per chunk: a power of two, so that an index splits with a shift.
const CHUNK_BITS: u32 = 12;
const CHUNK: usize = 1 << CHUNK_BITS;
const MASK: usize = CHUNK - 1;

/// A list of `T` in chunks of [`CHUNK`] entries. Every chunk but the last is
/// full.
#[derive(Debug, Clone)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self { chunks: Vec::new() }
    }
}

impl<T> Chunked<T> {
    pub(crate) fn len(&self) -> usize {
        match self.chunks.last() {
            Some(last) => (self.chunks.len() - 1) * CHUNK + last.len(),
            None => 0,
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index >> CHUNK_BITS)?.get(index & MASK)
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index >> CHUNK_BITS)?.get_mut(index & MASK)
    }

    pub(crate) fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }

    pub(crate) fn push(&mut self, value: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < CHUNK => last.push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                self.chunks.push(chunk);
            }
        }
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        let last = self.chunks.last_mut()?;
        let value = last.pop();
        if last.is_empty() {
            self.chunks.pop();
        }
        value
    }

    /// The entry at `index`, after pushing `fill()` until there is one.
    pub(crate) fn grown_to(&mut self, index: usize, mut fill: impl FnMut() -> T) -> &mut T {
        for _ in self.len()..=index {
            self.push(fill());
        }
        &mut self.chunks[index >> CHUNK_BITS][index & MASK]
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

impl<T: PartialEq> PartialEq for Chunked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.chunks == other.chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_keep_their_index_across_chunks_and_pops_give_back_chunks() {
        let mut list = Chunked::default();
        assert_eq!((list.len(), list.get(0), list.last()), (0, None, None));
        let n = 2 * CHUNK + 5;
        for i in 0..n {
            list.push(i);
        }
        assert_eq!(list.len(), n);
        assert_eq!(list.chunks.len(), 3);
        assert!(list.chunks.iter().take(2).all(|c| c.len() == CHUNK && c.capacity() == CHUNK));
        assert!((0..n).all(|i| list.get(i) == Some(&i)));
        assert_eq!(list.get(n), None);
        assert_eq!(list.last(), Some(&(n - 1)));
        assert!(list.iter().copied().eq(0..n));
        if let Some(v) = list.get_mut(CHUNK) {
            *v = 0;
        }
        assert_eq!(list.get(CHUNK), Some(&0));
        for i in (2 * CHUNK..n).rev() {
            assert_eq!(list.pop(), Some(i));
        }
        // The emptied chunk is gone, so the length is counted right.
        assert_eq!((list.chunks.len(), list.len(), list.last()), (2, 2 * CHUNK, Some(&(2 * CHUNK - 1))));
        assert_eq!(*list.grown_to(2 * CHUNK + 1, || 7), 7);
        assert_eq!((list.len(), list.get(2 * CHUNK)), (2 * CHUNK + 2, Some(&7)));
        assert_eq!(*list.grown_to(5, || 7), 5, "an entry that is there is not refilled");
        let mut other = Chunked::default();
        other.grown_to(2, || 1);
        assert_ne!(list, other);
        assert_eq!(other, other.clone());
    }
}
