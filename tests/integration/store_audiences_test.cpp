// The presence audience read against a real PostgreSQL: only contacts among
// the users connected to the asking instance come back, and the privacy
// rules (requests, show_presence) hold in the statement itself. The fan-out's
// unit tests use an in-memory stand-in; this pins the SQL that replaces it.
#include <algorithm>
#include <utility>
#include <vector>

#include "chatd/store/connection.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/transaction.hpp"
#include "harness.hpp"

namespace chatd::test {
namespace {

using Pairs = std::vector<std::pair<model::UserId, model::UserId>>;

TEST(StoreAudiences, OnlyContactsAmongTheConnectedUsersAndOnlyThoseAllowedToHear) {
  TestDatabase db;
  ChatdProcess migrate({"migrate", "--database-url", db.url()});
  ASSERT_EQ(migrate.run_to_exit(), 0) << migrate.output();
  // Users 1-6. Group 1: users 1, 2, 3, 4. Direct 2: from 1 to 5, still a
  // request for 5 (5 hears 1; 1, the requester, hears nothing of 5). Direct
  // 3: users 1 and 6, and 6 hides presence.
  db.query(R"sql(
    INSERT INTO users (id, username, display_name, password_hash) OVERRIDING SYSTEM VALUE
    SELECT g, 'u' || g, 'u' || g, 'x' FROM generate_series(1, 6) g;
    INSERT INTO conversations (id, kind, title, direct_key, activity_pos, created_by, last_seq)
    OVERRIDING SYSTEM VALUE
    VALUES (1, 'group', 'g', NULL, nextval('activity_pos'), 1, 1),
           (2, 'direct', NULL, '1:5', nextval('activity_pos'), 1, 1),
           (3, 'direct', NULL, '1:6', nextval('activity_pos'), 1, 1);
    INSERT INTO members (conversation_id, user_id, role) VALUES
      (1, 1, 'owner'), (1, 2, 'member'), (1, 3, 'member'), (1, 4, 'member'),
      (2, 1, 'owner'), (2, 5, 'member'), (3, 1, 'owner'), (3, 6, 'member');
    UPDATE members SET state = 'request' WHERE conversation_id = 2 AND user_id = 5;
    UPDATE users SET show_presence = false WHERE id = 6;
  )sql");
  store::Connection conn(db.url());
  auto audiences = [&](std::vector<model::UserId> users, std::vector<model::UserId> among,
                       bool even_hidden = false) {
    auto out = store::transact(conn, [&](store::Transaction& tx) {
      return store::ConversationStore(tx).audiences(users, among, even_hidden);
    });
    std::sort(out.begin(), out.end());
    return out;
  };

  // Everyone connected here: user 1's audience is the group, and 5 (1 is in
  // the inbox of their direct conversation); not 6, who hides presence.
  EXPECT_EQ(audiences({1}, {1, 2, 3, 4, 5, 6}), (Pairs{{1, 2}, {1, 3}, {1, 4}, {1, 5}}));
  // Only 3 and 5 connected here: only they are read.
  EXPECT_EQ(audiences({1}, {3, 5}), (Pairs{{1, 3}, {1, 5}}));
  // Nobody of the audience here: nothing, and a user is not their own audience.
  EXPECT_EQ(audiences({1}, {1, 6}), Pairs{});
  // 5 has not accepted the request: 5's presence reaches nobody, 1's reaches 5.
  EXPECT_EQ(audiences({5}, {1, 2, 3, 4, 5, 6}), Pairs{});
  // Several users in one read, each only towards the connected.
  EXPECT_EQ(audiences({2, 4}, {1, 3}), (Pairs{{2, 1}, {2, 3}, {4, 1}, {4, 3}}));
  // 6 hides presence: nothing of 6, unless asked for even while hidden
  // (switching visibility tells the audience once).
  EXPECT_EQ(audiences({6}, {1}), Pairs{});
  EXPECT_EQ(audiences({6}, {1}, true), (Pairs{{6, 1}}));
}

}  // namespace
}  // namespace chatd::test
