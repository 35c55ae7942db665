//! Sorting for the usage stage, with one copy of the sort in the module.
//!
//! Each element type and comparator given to the standard sorts becomes a
//! copy of their code in the module, several KB each, against a size budget.
//! So every order here is an order of `u32`s (symbols, call indices, or
//! positions in a list) under a comparator behind `&dyn`, and lists of
//! anything else are reordered through their positions.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`. Not stable: equal elements may come in any order,
/// so a comparator that tells every two distinct elements apart makes the
/// order unique.
pub(crate) fn sort_by(v: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    v.sort_unstable_by(|&a, &b| cmp(a, b));
}

/// `items` sorted by `cmp`, equal items in the order given (a stable sort).
/// Allocates as the standard stable sort would: a position per item, and
/// the items moved once.
pub(crate) fn stable<T>(items: Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) -> Vec<T> {
    // Every item takes a byte at least and memory is below 2^32 bytes on
    // wasm32, so positions fit a u32 there (and in any list tests make).
    debug_assert!(u32::try_from(items.len()).is_ok());
    let mut order: Vec<u32> = (0..items.len()).map(|i| i as u32).collect();
    // Ties broken by position: a total order, whose unstable sort is the
    // stable sort of the items. Positions index `items` by construction.
    sort_by(&mut order, &|a, b| match (items.get(a as usize), items.get(b as usize)) {
        (Some(x), Some(y)) => cmp(x, y).then(a.cmp(&b)),
        _ => {
            debug_assert!(false, "a position past the items");
            a.cmp(&b)
        }
    });
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.iter().filter_map(|&i| slots.get_mut(i as usize).and_then(Option::take)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_agrees_with_the_standard_stable_sort() {
        // Pairs sorted by their first half: the second tells the order of
        // equal keys, which must be the one given.
        let mut seed = 7u64;
        for len in 0..200 {
            let items: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 59) as u8, i)
                })
                .collect();
            let mut want = items.clone();
            want.sort_by_key(|&(k, _)| k);
            assert_eq!(stable(items, |a, b| a.0.cmp(&b.0)), want, "len {len}");
        }
    }

    #[test]
    fn sort_by_sorts() {
        let mut v: Vec<u32> = (0..100).map(|i| (i * 37) % 101).collect();
        sort_by(&mut v, &|a, b| b.cmp(&a));
        assert!(v.windows(2).all(|w| w[0] > w[1]));
    }
}
