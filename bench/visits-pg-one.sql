-- The ceiling in one statement: the rows of bench/visits-pg.sql written by
-- one INSERT with data-modifying common table expressions, one round trip
-- and an implicit transaction with the same durability (synchronous commit).
-- What PostgreSQL itself can take when nothing else is paid per row.
\set n random(1, 1000000000)
\set h random(1, 300)
WITH k AS (INSERT INTO bench_idempotency (id, user_id, key, request_hash, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'k' || :n || '-' || :client_id, repeat('a', 64), now())),
v AS (INSERT INTO bench_visits (id, township_id, branch_id, household_id, member_id, kind, visited_at, received_at, lat, lng, submitted_at, summary, needs, photo_ids, flags, status, version)
  VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'assistance', now(), now(), 30.2741, 120.1551, now(), '了解近况，宣传医保政策', '["医保续费"]', '[]', '[]', 'pending', 1)),
e AS (INSERT INTO bench_events (id, subject_id, action, snapshot, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'submitted', '{"summary": "了解近况，宣传医保政策"}', now())),
o AS (INSERT INTO bench_outbox (id, kind, subject_id, payload, created_at) VALUES (gen_random_uuid(), 'visit.submitted', gen_random_uuid(), '{"household": "张大山"}', now())),
a AS (INSERT INTO bench_audit (id, action, subject_id, after, created_at) VALUES (gen_random_uuid(), 'visit.created', gen_random_uuid(), '{"summary": "了解近况"}', now())),
d AS (INSERT INTO bench_stats_deltas (township_id, branch_id, name, n) VALUES (gen_random_uuid(), gen_random_uuid(), 'visits.assistance.pending', 1))
INSERT INTO bench_household_visits (household_id, branch_id, n) VALUES (md5(:h::text)::uuid, '00000000-0000-0000-0000-000000000001', 1)
  ON CONFLICT (household_id, branch_id) DO UPDATE SET n = bench_household_visits.n + 1;
