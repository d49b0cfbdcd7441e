//! Many upstream calls at once, but not too many: used by the server functions and by batches
//! alike, so it belongs to neither.

/// Runs `f` over `items` with at most `limit` calls in flight, keeping the input order.
pub async fn bounded<I, T, F, Fut>(items: I, limit: usize, f: F) -> Vec<T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use futures::StreamExt;
    futures::stream::iter(items).map(f).buffered(limit.max(1)).collect().await
}
