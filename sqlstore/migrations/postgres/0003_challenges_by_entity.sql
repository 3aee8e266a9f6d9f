-- 0003: nothing changes on PostgreSQL. On SQLite this migration drops the
-- index of challenges by factor and the foreign key to factors that needed
-- it (see migrations/sqlite/0003). Here several nodes insert challenges and
-- delete factors concurrently, and the foreign key is what keeps a
-- challenge from outliving its factor across them; its index stays too, so
-- that deleting a factor finds the rows to cascade to. The number is kept so
-- that both dialects share their schema versions.
SELECT 1;
