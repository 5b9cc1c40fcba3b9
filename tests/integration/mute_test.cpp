// Mute (API.md v1.1) and the conversation_state frame: the caller's own
// devices, on every instance, hear when their standing changes.
#include <gtest/gtest.h>

#include "chat_fixture.hpp"
#include "ws_client.hpp"

namespace chatd::test {
namespace {

bool is_state(const Json& f) { return f.value("type", "") == "conversation_state"; }

class Mute : public ChatTest {
 protected:
  Json conversation(const TestUser& u, long long id) { return request(u, "GET", conv_path(id)).json()["conversation"]; }
};

TEST_F(Mute, MutedUntilUnmutedOrUntilATimeAndAnExpiredMuteIsNone) {
  auto a = user("mona"), b = user("milo");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  auto fresh = conversation(a, id);
  EXPECT_EQ(fresh.value("muted", true), false);
  EXPECT_TRUE(fresh["muted_until"].is_null());
  EXPECT_EQ(fresh.value("state", ""), "inbox");
  EXPECT_EQ(fresh.value("role", ""), "member");

  auto forever = request(a, "PUT", conv_path(id) + "/mute");
  ASSERT_EQ(forever.status, 200) << forever.body;
  EXPECT_EQ(forever.json()["conversation"].value("muted", false), true);
  EXPECT_TRUE(forever.json()["conversation"]["muted_until"].is_null());
  EXPECT_EQ(conversation(a, id).value("muted", false), true);
  EXPECT_EQ(conversation(b, id).value("muted", true), false) << "a mute is the caller's own";
  // In the list too.
  auto list = request(a, "GET", "/v1/conversations").json()["conversations"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].value("muted", false), true);

  auto until = request(a, "PUT", conv_path(id) + "/mute", R"({"until":"2099-01-01T01:00:00+01:00"})");
  ASSERT_EQ(until.status, 200) << until.body;
  EXPECT_EQ(until.json()["conversation"].value("muted_until", ""), "2099-01-01T00:00:00.000Z");

  auto past = request(a, "PUT", conv_path(id) + "/mute", R"({"until":"2001-01-01T00:00:00Z"})");
  ASSERT_EQ(past.status, 200);
  EXPECT_EQ(past.json()["conversation"].value("muted", true), false);
  EXPECT_TRUE(past.json()["conversation"]["muted_until"].is_null());

  ASSERT_EQ(request(a, "PUT", conv_path(id) + "/mute", R"({"until":null})").status, 200);
  auto off = request(a, "DELETE", conv_path(id) + "/mute");
  ASSERT_EQ(off.status, 200);
  EXPECT_EQ(off.json()["conversation"].value("muted", true), false);
}

TEST_F(Mute, BadInputIsRefusedAndNothingChanges) {
  auto a = user("nell"), b = user("ned");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  for (const char* body : {R"({"until":"tomorrow"})", R"({"until":"2026-02-30T00:00:00Z"})",
                           R"({"until":"2026-12-24 18:00:00Z"})", R"({"until":"2026-12-24T18:00:00"})",
                           R"({"until":5})", "[]", "not json"}) {
    expect_error(request(a, "PUT", conv_path(id) + "/mute", body), 400, "invalid_request");
  }
  EXPECT_EQ(conversation(a, id).value("muted", true), false);
  auto stranger = user("nora");
  expect_error(request(stranger, "PUT", conv_path(id) + "/mute"), 404, "not_found");
  expect_error(request(stranger, "DELETE", conv_path(id) + "/mute"), 404, "not_found");
}

TEST_F(Mute, DeliveryIsUnchangedWhileMuted) {
  auto a = user("opal"), b = user("oren");
  auto id = direct(a, b).json()["conversation"].value("id", 0LL);
  ASSERT_EQ(request(b, "PUT", conv_path(id) + "/mute").status, 200);
  WsClient ws(server_->port(), b.token);
  ASSERT_TRUE(ws.connected());
  ASSERT_EQ(send(a, id, "m1", "still delivered").status, 201);
  auto e = ws.read_until([](const Json& f) {
    return f.value("type", "") == "event" && f["event"].value("kind", "") == "message.created";
  });
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["event"]["data"].value("body", ""), "still delivered");
  EXPECT_EQ(conversation(b, id).value("unread_count", 0), 1);
}

TEST_F(Mute, TheCallersDevicesOnEveryInstanceHearOfMuteAndRoleChanges) {
  auto o = user("pia"), m = user("pete");
  auto id = group(o, {m});
  ChatdProcess other({"--database-url", db_->url(), "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(other.start()) << other.output();
  WsClient phone(server_->port(), m.token), laptop(other.port(), m.token), owner(server_->port(), o.token);
  ASSERT_TRUE(phone.connected() && laptop.connected() && owner.connected());
  // Let both instances see the sockets before the change.
  for (auto* c : {&phone, &laptop, &owner}) {
    c->send({{"type", "ping"}, {"id", 1}});
    ASSERT_TRUE(c->read_until([](const Json& f) { return f.value("type", "") == "pong"; }));
  }

  ASSERT_EQ(request(m, "PUT", conv_path(id) + "/mute", R"({"until":"2099-06-01T00:00:00Z"})").status, 200);
  for (auto* device : {&phone, &laptop}) {
    auto f = device->read_until(is_state);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->value("conversation_id", 0LL), id);
    EXPECT_EQ(f->value("muted", false), true);
    EXPECT_EQ(f->value("muted_until", ""), "2099-06-01T00:00:00.000Z");
    EXPECT_EQ(f->value("role", ""), "member");
    EXPECT_EQ(f->value("state", ""), "inbox");
  }

  ASSERT_EQ(request(o, "PATCH", conv_path(id) + "/members/" + std::to_string(m.id), R"({"role":"admin"})").status,
            200);
  for (auto* device : {&phone, &laptop}) {
    auto f = device->read_until(is_state);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->value("role", ""), "admin");
    EXPECT_EQ(f->value("muted", false), true);
  }
  // The owner's standing did not change: no frame for it.
  EXPECT_FALSE(owner.read_until(is_state, std::chrono::milliseconds(800)));
}

}  // namespace
}  // namespace chatd::test
