// The hot reads must stay index range scans: EXPLAIN the store's own
// statements on a database with realistic volume and fail on a Seq Scan.
#include <pqxx/pqxx>

#include "chatd/store/hot_queries.hpp"
#include "harness.hpp"

namespace chatd::test {
namespace {

TEST(QueryPlans, HotReadsUseIndexesNotSequentialScans) {
  TestDatabase db;
  ChatdProcess migrate({"migrate", "--database-url", db.url()});
  ASSERT_EQ(migrate.run_to_exit(), 0) << migrate.output();

  pqxx::connection c(db.url());
  {
    pqxx::work tx(c);
    // 5,000 users, 20,000 conversations of 5 members with 10 messages each,
    // and one long conversation (7) of 2,000 messages; every tenth message has
    // reactions (rendering a message reads them).
    tx.exec(R"sql(
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
    )sql");
    tx.commit();
  }
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

}  // namespace
}  // namespace chatd::test
