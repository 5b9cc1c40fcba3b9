// In-memory stand-ins for the real-time layer's unit tests.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "chatd/realtime/log_reader.hpp"
#include "chatd/realtime/subscriber.hpp"

namespace chatd::test {

// The page of an in-memory log after `after`, at most `limit` events.
inline store::Page<model::Event> page_after(const std::vector<model::Event>& log, model::Seq after,
                                            int limit) {
  store::Page<model::Event> page;
  for (const auto& e : log) {
    if (e.seq <= after) continue;
    if (static_cast<int>(page.items.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.items.push_back(e);
  }
  return page;
}

// Records what the hub hands it (on the calling thread).
class RecordingSubscriber final : public realtime::Subscriber {
 public:
  explicit RecordingSubscriber(model::UserId user) : user_(user) {}
  model::UserId user() const override { return user_; }
  const std::string& token_hash() const override { return token_; }
  void deliver_event(model::ConversationId id, model::Seq seq, realtime::Frame frame) override {
    std::lock_guard lock(mu_);
    events.push_back({id, seq, frame != nullptr});
  }
  void deliver_frame(realtime::Frame frame) override {
    std::lock_guard lock(mu_);
    frames.push_back(*frame);
    deferred.push_back(false);
  }
  void deliver_presence(realtime::Frame frame) override {
    std::lock_guard lock(mu_);
    frames.push_back(*frame);
    deferred.push_back(true);
  }
  void recheck() override { ++rechecks; }
  void revoke() override {}
  void shutdown() override {}

  struct Got {
    model::ConversationId conversation;
    model::Seq seq;
    bool with_frame;
  };
  std::vector<Got> events;
  std::vector<std::string> frames;
  std::vector<bool> deferred;  // frames[i] came as presence, which may wait
  std::atomic<int> rechecks{0};

 private:
  model::UserId user_;
  std::string token_ = "t";
  std::mutex mu_;
};

// A log, members and contacts in memory; reads can be made to fail.
class MemoryLog final : public realtime::LogReader {
 public:
  model::Seq append(model::ConversationId c, const std::string& kind = "message.created",
                    const std::string& data = "{}") {
    auto& log = logs[c];
    model::Event e;
    e.conversation_id = c;
    e.seq = static_cast<model::Seq>(log.size()) + 1;
    e.kind = kind;
    e.created_at = "2026-12-01T00:00:00.000Z";
    e.data_json = data;
    log.push_back(e);
    return e.seq;
  }
  store::Page<model::Event> events(model::ConversationId id, model::Seq after, int limit) override {
    ++reads;
    if (failing.count(id)) throw std::runtime_error("database away");
    return page_after(logs[id], after, limit);
  }
  std::vector<model::UserId> member_ids(model::ConversationId id) override {
    ++member_reads;
    if (failing.count(id)) throw std::runtime_error("database away");
    return {members[id].begin(), members[id].end()};
  }
  bool online(model::UserId user) override { return connected.count(user) > 0; }
  std::vector<std::pair<model::UserId, model::UserId>> audiences(
      const std::vector<model::UserId>& users, const std::vector<model::UserId>& among,
      bool = false) override {
    ++audience_reads;
    if (on_audience_read) on_audience_read();
    if (audiences_fail) throw std::runtime_error("database away");
    std::set<model::UserId> here(among.begin(), among.end());
    std::set<std::pair<model::UserId, model::UserId>> out;
    for (model::UserId user : users) {
      for (const auto& [c, who] : members) {
        if (!who.count(user)) continue;
        for (model::UserId other : who) {
          if (other != user && here.count(other)) out.insert({user, other});
        }
      }
    }
    return {out.begin(), out.end()};
  }
  std::optional<model::MemberState> standing(model::ConversationId id, model::UserId user) override {
    if (!members[id].count(user)) return std::nullopt;
    model::MemberState s;
    s.conversation = id;
    s.muted = muted.count({id, user}) > 0;
    return s;
  }
  std::optional<store::MemberPrivacy> privacy(model::ConversationId id, model::UserId user) override {
    if (!members[id].count(user)) return std::nullopt;
    return store::MemberPrivacy{!requests.count({id, user}), !hides_receipts.count(user)};
  }

  std::map<model::ConversationId, std::vector<model::Event>> logs;
  std::set<std::pair<model::ConversationId, model::UserId>> muted;
  std::set<std::pair<model::ConversationId, model::UserId>> requests;  // not accepted yet
  std::set<model::UserId> hides_receipts;
  std::set<model::UserId> connected;  // has a socket somewhere
  std::map<model::ConversationId, std::set<model::UserId>> members;
  std::set<model::ConversationId> failing;
  std::atomic<int> reads{0}, member_reads{0}, audience_reads{0};
  std::function<void()> on_audience_read;  // runs inside each audience read
  bool audiences_fail = false;
};

}  // namespace chatd::test
