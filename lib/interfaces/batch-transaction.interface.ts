/**
 * The transaction hook of atomic groups (the `transaction` option): runs `work` inside one
 * transaction of the app's own database and settles when the transaction has ended. It must
 * commit when `work` resolves and roll back when `work` rejects (then reject, or resolve: the
 * library reports the group failed either way); a rejection after `work` resolved is a failed
 * commit. It may call `work` again after a rollback, to retry (a serialization failure): the
 * entries are those of the last attempt. The library calls it once per group, outside any request's async context, and runs
 * each operation of the group in the async context `work` is called in, so a transaction the
 * hook keeps in AsyncLocalStorage (nestjs-cls) is the one the operations' handlers see.
 *
 * With @nestjs-cls/transactional: `(work) => txHost.withTransaction(work)`.
 * @publicApi
 */
export type BatchTransactionHook = (work: () => Promise<void>) => PromiseLike<unknown>;
