-- The raw ceiling for one check-in: the same rows POST /api/v1/visits writes
-- (idempotency key, visit, history entry, outbox event, audit row), in one
-- transaction with the same durability (synchronous commit), from pgbench.
\set n random(1, 1000000000)
BEGIN;
INSERT INTO bench_idempotency (id, user_id, key, request_hash, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'k' || :n || '-' || :client_id, repeat('a', 64), now());
INSERT INTO bench_visits (id, township_id, branch_id, household_id, member_id, kind, visited_at, received_at, lat, lng, summary, needs, photo_ids, flags, status, version)
  VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'assistance', now(), now(), 30.2741, 120.1551, '了解近况，宣传医保政策', '["医保续费"]', '[]', '[]', 'pending', 1);
INSERT INTO bench_events (id, subject_id, action, snapshot, created_at) VALUES (gen_random_uuid(), gen_random_uuid(), 'submitted', '{"summary": "了解近况，宣传医保政策"}', now());
INSERT INTO bench_outbox (id, kind, subject_id, payload, created_at) VALUES (gen_random_uuid(), 'visit.submitted', gen_random_uuid(), '{"household": "张大山"}', now());
INSERT INTO bench_audit (id, action, subject_id, after, created_at) VALUES (gen_random_uuid(), 'visit.created', gen_random_uuid(), '{"summary": "了解近况"}', now());
COMMIT;
