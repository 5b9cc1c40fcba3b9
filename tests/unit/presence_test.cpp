#include <gtest/gtest.h>

#include <map>
#include <set>

#include "chatd/realtime/presence.hpp"

using namespace chatd;
using chatd::realtime::Presence;
using chatd::store::PresenceChange;

namespace {

// The shared table of several instances, in memory.
struct Table {
  std::map<store::InstanceId, std::set<model::UserId>> rows;
  store::InstanceId next = 1;
  bool online(model::UserId u) const {
    for (const auto& [i, users] : rows) {
      if (users.count(u)) return true;
    }
    return false;
  }
};

class MemoryBackend final : public realtime::PresenceBackend {
 public:
  explicit MemoryBackend(Table& t) : t_(t) {}
  store::InstanceId register_instance() override {
    check();
    auto id = t_.next++;
    t_.rows[id];
    return id;
  }
  bool heartbeat(store::InstanceId self) override {
    check();
    return t_.rows.count(self) > 0;
  }
  std::vector<PresenceChange> apply(store::InstanceId self,
                                    const std::vector<std::pair<model::UserId, bool>>& changes) override {
    check();
    std::vector<PresenceChange> out;
    for (auto [u, on] : changes) {
      bool before = t_.online(u);
      if (on) t_.rows[self].insert(u);
      else t_.rows[self].erase(u);
      if (t_.online(u) != before) out.push_back({u, on});
    }
    announced.insert(announced.end(), out.begin(), out.end());
    ++writes;
    return out;
  }
  std::vector<PresenceChange> reap(store::InstanceId) override { return {}; }
  std::vector<PresenceChange> unregister(store::InstanceId self) override {
    std::vector<PresenceChange> out;
    auto users = t_.rows[self];
    t_.rows.erase(self);
    for (auto u : users) {
      if (!t_.online(u)) out.push_back({u, false});
    }
    announced.insert(announced.end(), out.begin(), out.end());
    return out;
  }
  void check() {
    if (down) throw std::runtime_error("database away");
  }

  std::vector<PresenceChange> announced;
  int writes = 0;
  bool down = false;

 private:
  Table& t_;
};

struct Local {
  std::map<model::UserId, int> sockets;
  std::function<bool(model::UserId)> connected() {
    return [this](model::UserId u) { return sockets[u] > 0; };
  }
  std::function<std::vector<model::UserId>()> users() {
    return [this] {
      std::vector<model::UserId> out;
      for (auto [u, n] : sockets) {
        if (n > 0) out.push_back(u);
      }
      return out;
    };
  }
};

TEST(Presence, AUserIsOnlineWhileAnyInstanceHoldsASocket) {
  Table table;
  MemoryBackend db_a(table), db_b(table);
  Local a, b;
  Presence pa(db_a, a.connected(), a.users(), {}), pb(db_b, b.connected(), b.users(), {});
  a.sockets[7] = 1;
  pa.changed(7);
  ASSERT_TRUE(pa.step());
  ASSERT_EQ(db_a.announced.size(), 1u);
  EXPECT_TRUE(db_a.announced[0].online);
  b.sockets[7] = 1;
  pb.changed(7);
  ASSERT_TRUE(pb.step());
  EXPECT_TRUE(db_b.announced.empty()) << "online already, through the other instance";
  a.sockets[7] = 0;
  pa.changed(7);
  ASSERT_TRUE(pa.step());
  EXPECT_EQ(db_a.announced.size(), 1u) << "offline while the other instance holds a socket";
  b.sockets[7] = 0;
  pb.changed(7);
  ASSERT_TRUE(pb.step());
  ASSERT_EQ(db_b.announced.size(), 1u);
  EXPECT_FALSE(db_b.announced[0].online);
}

TEST(Presence, ACloseAndReopenBeforeTheWriteCostsNothing) {
  Table table;
  MemoryBackend db(table);
  Local l;
  Presence p(db, l.connected(), l.users(), {});
  l.sockets[3] = 1;
  p.changed(3);
  ASSERT_TRUE(p.step());
  int writes = db.writes;
  l.sockets[3] = 0;
  p.changed(3);
  l.sockets[3] = 1;
  p.changed(3);
  ASSERT_TRUE(p.step());
  EXPECT_EQ(db.writes, writes);
  EXPECT_EQ(db.announced.size(), 1u);
}

TEST(Presence, AFailedWriteIsRetriedWithTheStateOfThen) {
  Table table;
  MemoryBackend db(table);
  Local l;
  Presence p(db, l.connected(), l.users(), {});
  ASSERT_TRUE(p.step());  // registered
  db.down = true;
  l.sockets[5] = 1;
  p.changed(5);
  EXPECT_FALSE(p.step());
  EXPECT_EQ(p.dirty(), 1u);
  db.down = false;
  ASSERT_TRUE(p.step());
  EXPECT_TRUE(table.online(5));
  EXPECT_EQ(p.dirty(), 0u);
}

TEST(Presence, StoppingTakesThisInstancesUsersOffline) {
  Table table;
  MemoryBackend db(table);
  Local l;
  {
    Presence p(db, l.connected(), l.users(), {});
    l.sockets[1] = 1;
    l.sockets[2] = 1;
    p.changed(1);
    p.changed(2);
    ASSERT_TRUE(p.step());
    EXPECT_TRUE(table.online(1) && table.online(2));
  }
  EXPECT_FALSE(table.online(1));
  EXPECT_FALSE(table.online(2));
}

}  // namespace
