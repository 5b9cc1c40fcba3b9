// Member roles (API.md v1.1): owner-only role changes, ownership hand-over,
// succession when the owner leaves, member.updated in the log, the group
// size limit.
#include <gtest/gtest.h>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

class Roles : public ChatTest {
 protected:
  std::vector<std::string> extra_args() const override { return {"--max-group-size", "4"}; }

  HttpResult set_role(const TestUser& me, long long conv, const TestUser& who, const std::string& role) {
    return request(me, "PATCH", conv_path(conv) + "/members/" + std::to_string(who.id),
                   Json{{"role", role}}.dump());
  }
  std::string role_of(const TestUser& viewer, long long conv, const TestUser& who) {
    auto r = request(viewer, "GET", conv_path(conv));
    if (r.status != 200) ADD_FAILURE() << r.body;
    Json body = r.json();  // kept: a loop over a temporary's member would dangle
    for (auto& m : body["conversation"]["members"]) {
      if (m.value("user_id", 0LL) == who.id) return m.value("role", "");
    }
    return "";
  }
  std::vector<Json> events_of_kind(const TestUser& viewer, long long conv, const std::string& kind) {
    std::vector<Json> out;
    Json log = request(viewer, "GET", conv_path(conv) + "/events").json();
    for (auto& e : log["events"]) {
      if (e.value("kind", "") == kind) out.push_back(e);
    }
    return out;
  }
};

TEST_F(Roles, OnlyTheOwnerChangesRolesAndAnAdminModerates) {
  auto o = user("olive"), a = user("abe"), m = user("mia");
  auto id = group(o, {a, m});
  auto made = set_role(o, id, a, "admin");
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(role_of(o, id, a), "admin");
  // The admin renames and adds, but cannot change roles.
  EXPECT_EQ(request(a, "PATCH", conv_path(id), R"({"title":"by the admin"})").status, 200);
  expect_error(set_role(a, id, m, "admin"), 403, "forbidden");
  expect_error(set_role(m, id, m, "admin"), 403, "forbidden");
  // Bad input, and a user who is not there.
  expect_error(set_role(o, id, m, "king"), 400, "invalid_request");
  expect_error(request(o, "PATCH", conv_path(id) + "/members/" + std::to_string(m.id), R"({"role":7})"), 400,
               "invalid_request");
  auto stranger = user("sam");
  expect_error(set_role(o, id, stranger, "admin"), 404, "not_found");
  expect_error(set_role(stranger, id, m, "admin"), 404, "not_found");  // not a member: the group is hidden
  // The owner cannot drop ownership without handing it over.
  expect_error(set_role(o, id, o, "member"), 409, "last_owner");
  // No change, no event.
  EXPECT_EQ(set_role(o, id, a, "admin").status, 200);
  auto updates = events_of_kind(o, id, "member.updated");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0]["data"], (Json{{"user_id", a.id}, {"role", "admin"}}));
  EXPECT_EQ(updates[0].value("actor_id", 0LL), o.id);
  // A direct conversation has no roles.
  auto direct_id = direct(o, m).json()["conversation"].value("id", 0LL);
  expect_error(set_role(o, direct_id, m, "admin"), 403, "forbidden");
}

TEST_F(Roles, HandingOwnershipOverMakesTheOldOwnerAnAdmin) {
  auto o = user("oona"), m = user("max");
  auto id = group(o, {m});
  WsClient watcher(server_->port(), m.token);
  ASSERT_TRUE(watcher.connected());
  ASSERT_EQ(set_role(o, id, m, "owner").status, 200);
  EXPECT_EQ(role_of(m, id, m), "owner");
  EXPECT_EQ(role_of(m, id, o), "admin");
  expect_error(set_role(o, id, m, "member"), 403, "forbidden");  // no longer the owner
  // Both changes reach members live, in order.
  std::vector<Json> seen;
  while (seen.size() < 2) {
    auto f = watcher.read_until([](const Json& j) {
      return j.value("type", "") == "event" && j["event"].value("kind", "") == "member.updated";
    });
    ASSERT_TRUE(f);
    seen.push_back((*f)["event"]["data"]);
  }
  EXPECT_EQ(seen[0], (Json{{"user_id", m.id}, {"role", "owner"}}));
  EXPECT_EQ(seen[1], (Json{{"user_id", o.id}, {"role", "admin"}}));
}

TEST_F(Roles, WhenTheOwnerLeavesTheLongestStandingAdminElseMemberInherits) {
  auto o = user("otis"), early = user("early"), late = user("late");
  auto id = group(o, {early});
  ASSERT_EQ(request(o, "POST", conv_path(id) + "/members", Json{{"user_id", late.id}}.dump()).status, 201);
  ASSERT_EQ(set_role(o, id, late, "admin").status, 200);
  // An admin wins over a member who joined earlier.
  ASSERT_EQ(request(o, "DELETE", conv_path(id) + "/members/" + std::to_string(o.id)).status, 204);
  EXPECT_EQ(role_of(early, id, late), "owner");
  // Now the new owner leaves: the member who is left inherits.
  ASSERT_EQ(request(late, "DELETE", conv_path(id) + "/members/" + std::to_string(late.id)).status, 204);
  EXPECT_EQ(role_of(early, id, early), "owner");
  auto updates = events_of_kind(early, id, "member.updated");
  ASSERT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[1]["data"], (Json{{"user_id", late.id}, {"role", "owner"}}));
  EXPECT_EQ(updates[2]["data"], (Json{{"user_id", early.id}, {"role", "owner"}}));
  // The last one may leave too; the group is then empty.
  EXPECT_EQ(request(early, "DELETE", conv_path(id) + "/members/" + std::to_string(early.id)).status, 204);
}

TEST_F(Roles, AGroupHoldsAtMostMaxGroupSizeMembers) {
  auto o = user("gail"), a = user("gabe"), b = user("gina"), c = user("gus"), d = user("gwyn");
  expect_error(client().post("/v1/conversations", {{"kind", "group"}, {"title", "too big"},
                                                   {"member_ids", {a.id, b.id, c.id, d.id}}}, o.token),
               409, "group_full");
  auto id = group(o, {a, b});
  EXPECT_EQ(request(o, "POST", conv_path(id) + "/members", Json{{"user_id", c.id}}.dump()).status, 201);
  expect_error(request(o, "POST", conv_path(id) + "/members", Json{{"user_id", d.id}}.dump()), 409, "group_full");
  // A place freed is a place again.
  ASSERT_EQ(request(c, "DELETE", conv_path(id) + "/members/" + std::to_string(c.id)).status, 204);
  EXPECT_EQ(request(o, "POST", conv_path(id) + "/members", Json{{"user_id", d.id}}.dump()).status, 201);
}

}  // namespace
}  // namespace chatd::test
