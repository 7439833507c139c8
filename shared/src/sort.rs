//! One sort for the whole app. Each `sort_by_key` or `sort_unstable` on another
//! element type compiles the standard library's sort once more (a few KB of WASM
//! each; the app had 16 of them). These functions share one: they sort the items'
//! positions (`usize`) through a `dyn` comparison, ties in their old order, so the
//! result is a stable sort; then they move the items into that order.

use std::cmp::Ordering;

/// Sorts `items` by `key`, stable; `key` is called once per item (like
/// `sort_by_cached_key`).
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, key: impl FnMut(&T) -> K) {
    let keys: Vec<K> = items.iter().map(key).collect();
    let order = sorted_positions(items.len(), &mut |a, b| match (keys.get(a), keys.get(b)) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => Ordering::Equal,
    });
    reorder(items, &order);
}

/// Sorts `items` with `compare`, stable.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    let order = sorted_positions(
        items.len(),
        &mut |a, b| match (items.get(a), items.get(b)) {
            (Some(x), Some(y)) => compare(x, y),
            _ => Ordering::Equal,
        },
    );
    reorder(items, &order);
}

/// Sorts `items` in their natural order.
pub fn sort<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, |a, b| a.cmp(b));
}

/// `0..len` ordered by `compare`, equal positions in increasing order: the one
/// instantiation of the standard sort.
fn sorted_positions(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_unstable_by(|a, b| compare(*a, *b).then(a.cmp(b)));
    order
}

/// Puts `items` in the order of `order` (a permutation of their positions).
fn reorder<T>(items: &mut Vec<T>, order: &[usize]) {
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(
        order
            .iter()
            .filter_map(|&i| slots.get_mut(i).and_then(Option::take)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_like_the_standard_library() {
        let words = ["pear", "Apple", "fig", "apple", "Fig", "kiwi", "", "pear"];
        let mut ours: Vec<&str> = words.to_vec();
        sort_by_key(&mut ours, |w| w.to_lowercase());
        let mut std_sorted = words.to_vec();
        std_sorted.sort_by_key(|w| w.to_lowercase());
        assert_eq!(ours, std_sorted);
        let mut ours = words.to_vec();
        sort_by(&mut ours, |a, b| b.len().cmp(&a.len()));
        let mut std_sorted = words.to_vec();
        // The same comparison as ours, on purpose.
        #[allow(clippy::unnecessary_sort_by)]
        std_sorted.sort_by(|a, b| b.len().cmp(&a.len()));
        assert_eq!(ours, std_sorted);
        let mut numbers = vec![5u32, 3, 9, 3, 0, 7];
        sort(&mut numbers);
        assert_eq!(numbers, [0, 3, 3, 5, 7, 9]);
        let mut empty: Vec<u8> = Vec::new();
        sort(&mut empty);
        assert!(empty.is_empty());
    }
}
