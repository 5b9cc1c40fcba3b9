// The hot reads must stay index range scans: EXPLAIN the store's own
// statements on a database with realistic volume and fail on a Seq Scan.
#include <pqxx/pqxx>

#include "chatd/store/hot_queries.hpp"
#include "harness.hpp"
#include "store/pg.hpp"

namespace chatd::test {
namespace {

// Migrates db and runs rows (SQL that fills the tables and ends with ANALYZE)
// in one transaction.
void migrate_and_fill(const TestDatabase& db, const char* rows) {
  ChatdProcess migrate({"migrate", "--database-url", db.url()});
  ASSERT_EQ(migrate.run_to_exit(), 0) << migrate.output();
  pqxx::connection c(db.url());
  pqxx::work tx(c);
  tx.exec(rows);
  tx.commit();
}

TEST(QueryPlans, HotReadsUseIndexesNotSequentialScans) {
  TestDatabase db;
  // 5,000 users, 20,000 conversations of 5 members with 10 messages each,
  // and one long conversation (7) of 2,000 messages; every tenth message has
  // reactions (rendering a message reads them).
  ASSERT_NO_FATAL_FAILURE(migrate_and_fill(db, R"sql(
      INSERT INTO users (username, display_name, password_hash)
      SELECT 'u' || g, 'u' || g, 'x' FROM generate_series(1, 5000) g;
      INSERT INTO conversations (kind, title, activity_pos, created_by, last_seq)
      SELECT 'group', 'g' || g, nextval('activity_pos'), 1,
             CASE WHEN g = 7 THEN 2000 ELSE 10 END
      FROM generate_series(1, 20000) g;
      INSERT INTO members (conversation_id, user_id, role)
      SELECT c, ((c * 5 + k) % 5000) + 1, 'member'
      FROM generate_series(1, 20000) c, generate_series(0, 4) k;
      INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body)
      SELECT c.id, s, 1, c.id || '-' || s, 'hello'
      FROM conversations c, generate_series(1, c.last_seq) s;
      INSERT INTO reactions (conversation_id, seq, emoji, user_id)
      SELECT m.conversation_id, m.seq, e, u
      FROM messages m, unnest(ARRAY['👍', '❤️']) e, generate_series(1, 3) u
      WHERE m.seq % 10 = 0;
      INSERT INTO events (conversation_id, seq, pos, kind, actor_id, data)
      SELECT conversation_id, seq, nextval('activity_pos'), 'message.created', 1, '{}'::jsonb
      FROM messages;
      ANALYZE;
    )sql"));
  pqxx::connection c(db.url());
  // Sample arguments: conversation 7, user 36 (a member of it), mid-history seqs.
  std::map<std::string, std::string> args = {
      {"newest page", "7, 36, 0, 9223372036854775807, 51"},
      {"page before seq", "7, 36, 0, 1000, 51"},
      {"events after seq", "7, 36, 1000, 51"},
      {"log after seq (fan-out)", "7, 1000, 51"},
      {"my conversations by activity",
       "36, 9223372036854775807, 9223372036854775807, 9223372036854775807, 51, 'inbox'"},
      {"membership", "7, 36"},
      {"conversation ends of many users", "'{36, 37, 38, 4000}'"}};
  auto queries = store::hot_queries();
  ASSERT_EQ(queries.size(), 7u);
  for (const auto& q : queries) {
    pqxx::work tx(c);
    tx.exec("PREPARE hot (" + q.param_types + ") AS " + q.sql);
    std::string plan;
    for (const auto& row : tx.exec("EXPLAIN EXECUTE hot(" + args.at(q.name) + ")")) {
      plan += row[0].as<std::string>() + "\n";
    }
    tx.exec("DEALLOCATE hot");
    tx.commit();
    std::cout << "-- " << q.name << "\n" << plan << std::endl;
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << q.name << " scans a table:\n" << plan;
    EXPECT_NE(plan.find("Index"), std::string::npos) << q.name << ":\n" << plan;
  }
}

// The send batch's state read on a young deployment: 10,000 messages, a
// freshly analysed database. Estimating 100 rows for the batch's recordset,
// the planner hashed whole tables it thought small (the messages scanned per
// batch: 6 ms of the statement's 8; 0.7 ms in all with probes). Each
// request's conversation, membership and stored retry is looked up for it.
TEST(QueryPlans, TheSendStateReadProbesByKeyEvenWhenTablesAreSmall) {
  TestDatabase db;
  // 256 users in 128 direct conversations of two, 78 messages each.
  ASSERT_NO_FATAL_FAILURE(migrate_and_fill(db, R"sql(
      INSERT INTO users (username, display_name, password_hash)
      SELECT 'u' || g, 'u' || g, 'x' FROM generate_series(1, 256) g;
      INSERT INTO conversations (kind, direct_key, activity_pos, created_by, last_seq)
      SELECT 'direct', (2 * g - 1) || ':' || (2 * g), nextval('activity_pos'), 2 * g - 1, 78
      FROM generate_series(1, 128) g;
      INSERT INTO members (conversation_id, user_id, role)
      SELECT c.id, u, 'member' FROM conversations c,
             LATERAL (VALUES (2 * c.id - 1), (2 * c.id)) v(u);
      INSERT INTO messages (conversation_id, seq, sender_id, client_msg_id, body)
      SELECT c.id, s, 2 * c.id - s % 2, c.id || '-' || s, 'hello'
      FROM conversations c, generate_series(1, 78) s;
      ANALYZE;
    )sql"));
  pqxx::connection c(db.url());
  // A batch of 64 requests, one per conversation, as the batcher builds it.
  std::string batch = "[";
  for (int i = 1; i <= 64; ++i) {
    batch += (i > 1 ? "," : "") + std::string(R"({"i":)") + std::to_string(i) +
             R"(,"conv":)" + std::to_string(i) + R"(,"uid":)" + std::to_string(2 * i) +
             R"(,"cmid":")" + (i == 1 ? std::string("1-2") : "new-" + std::to_string(i)) +
             R"(","reply_to":null,"att":[]})";
  }
  batch += "]";
  auto q = store::send_states_query();
  pqxx::work tx(c);
  tx.exec("PREPARE states (" + q.param_types + ") AS " + q.sql);
  // chatd's prepared statement runs a custom plan for its first executions
  // and then, usually, the generic one: both must probe.
  for (const char* mode : {"force_custom_plan", "force_generic_plan"}) {
    tx.exec(std::string("SET LOCAL plan_cache_mode = ") + mode);
    std::string plan;
    for (const auto& row : tx.exec("EXPLAIN EXECUTE states(" + tx.quote(batch) + ")")) {
      plan += row[0].as<std::string>() + "\n";
    }
    std::cout << "-- " << mode << "\n" << plan << std::endl;
    // Per request, a lookup: no table hashed whole, and the messages (too
    // many to scan 64 times) probed by their key. (A table of a page or two
    // may be read per request: the planner knows that is cheaper than its
    // index.)
    auto lookups = plan.substr(0, plan.find("SubPlan"));
    EXPECT_EQ(lookups.find("Hash"), std::string::npos) << mode << ": a table hashed whole:\n" << plan;
    EXPECT_EQ(lookups.find("Seq Scan on messages"), std::string::npos)
        << mode << ": the messages are scanned:\n" << plan;
    EXPECT_NE(lookups.find("messages_idempotency_key"), std::string::npos) << mode << plan;
  }
  tx.exec("RESET plan_cache_mode");
  // And they find the right rows: every sender a member, and request 1 a
  // retry of the stored message 2 of conversation 1.
  auto rows = tx.exec("EXECUTE states(" + tx.quote(batch) + ")");
  ASSERT_EQ(rows.size(), 64u);
  for (const auto& row : rows) {
    int i = row[0].as<int>();
    EXPECT_EQ(row[1].as<long>(), i);          // the conversation
    EXPECT_EQ(row[3].as<std::string>(), "member");
    EXPECT_EQ(row[8].is_null(), i != 1) << i;  // the stored message's seq
  }
  EXPECT_EQ(rows[0][8].as<long>(), 2);
  tx.exec("DEALLOCATE states");
}

// A generic plan's estimate can pass jit_above_cost (the send's state read
// did, costed for a scan it never runs), and then every execution paid
// 25-70 ms of LLVM compilation: chatd's own sessions run without JIT, on a
// server where it is on by default.
TEST(QueryPlans, ChatdSessionsNeverCompileStatementsWithJit) {
  TestDatabase db;
  db.query("ALTER DATABASE \"" + db.name() + "\" SET jit = on");  // whatever the server's own default
  pqxx::connection plain(db.url());
  EXPECT_EQ(pqxx::nontransaction(plain).exec1("SHOW jit")[0].as<std::string>(), "on");
  store::Connection conn(db.url());
  auto& pq = conn.impl().get();
  EXPECT_EQ(pqxx::nontransaction(pq).exec1("SHOW jit")[0].as<std::string>(), "off");
  // A reconnect applies it again.
  conn.impl().reset();
  EXPECT_EQ(pqxx::nontransaction(conn.impl().get()).exec1("SHOW jit")[0].as<std::string>(), "off");
}

}  // namespace
}  // namespace chatd::test
