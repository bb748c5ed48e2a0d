//! One sort for the paths that run once per answer (filter choices, a people file's values, the
//! inactive users, the text order of a dictionary): a stable sort of `u32` indices through a
//! comparator behind a reference. Each `sort_by` with its own closure is a separate copy of the
//! standard library's sort in the module (5 to 10 KB of wasm each); these share one.

use std::cmp::Ordering;

/// Sorts `indices` by `cmp`, stably (indices that compare equal keep their order).
pub(crate) fn sort_indices(indices: &mut [u32], cmp: &dyn Fn(u32, u32) -> Ordering) {
    indices.sort_by(|&a, &b| cmp(a, b));
}

/// The indices of `counts` that are not 0, the largest count first (then the lowest index).
pub(crate) fn most_first(counts: &[u64]) -> Vec<usize> {
    let mut order: Vec<u32> = (0..counts.len() as u32)
        .filter(|&i| counts[i as usize] > 0)
        .collect();
    sort_indices(&mut order, &|a, b| {
        counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b))
    });
    order.into_iter().map(|i| i as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_first_orders_by_count_then_index_and_drops_zeros() {
        assert_eq!(most_first(&[1, 0, 3, 1, 3]), vec![2, 4, 0, 3]);
        assert_eq!(most_first(&[]), Vec::<usize>::new());
    }

    #[test]
    fn sort_indices_is_stable() {
        let keys = [2, 1, 2, 1, 0];
        let mut order: Vec<u32> = (0..5).collect();
        sort_indices(&mut order, &|a, b| keys[a as usize].cmp(&keys[b as usize]));
        assert_eq!(order, vec![4, 1, 3, 0, 2]);
    }
}
