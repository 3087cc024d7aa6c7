-- state_before_versions.sql: a state database (state_dir/tally.db) exactly
-- as the release before schema_versions wrote it: the agent's tables at
-- PRAGMA user_version 1, the spool's and the daily collector's created
-- unversioned. The CREATE statements are that release's own text; the rows
-- are what its tallyd writes (a csv checkpoint, the agent's keys, daily
-- counter totals, a payload waiting in an http exporter's spool, two
-- business days of the daily collector). Read by state_migrate_test.sh.
PRAGMA journal_mode = WAL;
CREATE TABLE plugin_state (instance TEXT NOT NULL, key TEXT NOT NULL,  value TEXT NOT NULL, PRIMARY KEY (instance, key)) WITHOUT ROWID;
CREATE TABLE counter_days (date TEXT NOT NULL, name TEXT NOT NULL,  value INTEGER NOT NULL, PRIMARY KEY (date, name)) WITHOUT ROWID;
PRAGMA user_version = 1;
CREATE TABLE spool_instances (instance TEXT PRIMARY KEY,  uid TEXT NOT NULL, next_seq INTEGER NOT NULL,  delivered INTEGER NOT NULL DEFAULT 0, rejected INTEGER NOT NULL DEFAULT 0,  overflowed INTEGER NOT NULL DEFAULT 0, overflowed_bytes INTEGER NOT NULL DEFAULT 0);
CREATE TABLE spool (instance TEXT NOT NULL, seq INTEGER NOT NULL,  created INTEGER NOT NULL, meta TEXT NOT NULL, bytes INTEGER NOT NULL,  payload BLOB NOT NULL, PRIMARY KEY (instance, seq));
CREATE TABLE daily_days( date TEXT PRIMARY KEY, start_utc INTEGER NOT NULL, total INTEGER NOT NULL, error INTEGER NOT NULL, tok_input INTEGER NOT NULL, tok_output INTEGER NOT NULL, tok_cache_creation INTEGER NOT NULL, tok_cache_read INTEGER NOT NULL, cost_total_w INTEGER NOT NULL, cost_total_a INTEGER NOT NULL, cost_actual_w INTEGER NOT NULL, cost_actual_a INTEGER NOT NULL, cost_input_w INTEGER NOT NULL, cost_input_a INTEGER NOT NULL, cost_output_w INTEGER NOT NULL, cost_output_a INTEGER NOT NULL, cost_cache_creation_w INTEGER NOT NULL, cost_cache_creation_a INTEGER NOT NULL, cost_cache_read_w INTEGER NOT NULL, cost_cache_read_a INTEGER NOT NULL, rt_w INTEGER NOT NULL, rt_a INTEGER NOT NULL, rt_count INTEGER NOT NULL, fallback INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE daily_user_days( date TEXT NOT NULL, user_id BLOB NOT NULL, total INTEGER NOT NULL, error INTEGER NOT NULL, tok_input INTEGER NOT NULL, tok_output INTEGER NOT NULL, tok_cache_creation INTEGER NOT NULL, tok_cache_read INTEGER NOT NULL, cost_total_w INTEGER NOT NULL, cost_total_a INTEGER NOT NULL, PRIMARY KEY(date, user_id)) WITHOUT ROWID;
CREATE TABLE daily_values( date TEXT NOT NULL, kind INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY(date, kind, value)) WITHOUT ROWID;
CREATE TABLE daily_candidates( date TEXT NOT NULL, request_id BLOB NOT NULL, n INTEGER NOT NULL, PRIMARY KEY(date, request_id)) WITHOUT ROWID;
CREATE TABLE daily_inventory( source TEXT NOT NULL, stream INTEGER NOT NULL, id BLOB NOT NULL, active INTEGER NOT NULL, PRIMARY KEY(source, stream, id)) WITHOUT ROWID;

INSERT INTO plugin_state VALUES ('csv.usage', 'files', '{"version":1,"files":[]}');
INSERT INTO plugin_state VALUES ('tallyd', 'last_day', '2026-11-21');
INSERT INTO plugin_state VALUES ('tallyd', 'rejected_rows', '11');
INSERT INTO counter_days VALUES ('2026-11-20', 'api.requests.today', 1234);
INSERT INTO counter_days VALUES ('2026-11-21', 'api.requests.today', 77);
INSERT INTO spool_instances VALUES ('http.push', '08b070651152febe35dffd92ae772956', 3, 1, 0, 0, 0);
INSERT INTO spool VALUES ('http.push', 2, 1796236949, 'json', 7, X'7B2261223A317D');
-- Asia/Shanghai days; costs as whole units and 1e-18 parts.
INSERT INTO daily_days VALUES ('2026-11-20', 1795104000, 406, 11, 1000, 2000, 30, 40, 0, 860152275000000000, 0, 860152275000000000, 0, 500000000000000000, 0, 360152275000000000, 0, 0, 0, 0, 81200, 0, 406, 3);
INSERT INTO daily_days VALUES ('2026-11-21', 1795190400, 405, 10, 1500, 2500, 0, 0, 1, 469272435000000000, 1, 469272435000000000, 1, 0, 0, 469272435000000000, 0, 0, 0, 0, 40500, 0, 405, 0);
INSERT INTO daily_user_days VALUES ('2026-11-20', X'7531', 400, 11, 900, 1800, 30, 40, 0, 800000000000000000);
INSERT INTO daily_user_days VALUES ('2026-11-21', X'7532', 405, 10, 1500, 2500, 0, 0, 1, 469272435000000000);
INSERT INTO daily_values VALUES ('2026-11-20', 109, X'6770742D346F');
INSERT INTO daily_values VALUES ('2026-11-20', 112, X'6F70656E6169');
INSERT INTO daily_candidates VALUES ('2026-11-20', X'72312D31', 2);
INSERT INTO daily_inventory VALUES ('csv.users', 3, X'7531', 1);
INSERT INTO daily_inventory VALUES ('csv.users', 3, X'7532', 0);
