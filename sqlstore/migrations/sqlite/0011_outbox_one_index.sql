-- 0011: the outbox keeps one index besides its key. outbox_status_updated
-- served the prune, by date_updated; but a settled row's next_attempt_at is
-- its settle time too, so the prune reads outbox_due instead. Every outbox
-- write (the enqueue in the request's transaction, the claim, the settle)
-- moved an entry of both indexes, and on SQLite each index page a commit
-- touches goes to the WAL: a saturated server lost some 7 % less of its
-- rate to webhooks without it (BENCHMARKS.md). The operator's list sorts
-- what it reads; it is rare and bounded by its limit.
DROP INDEX IF EXISTS outbox_status_updated;
