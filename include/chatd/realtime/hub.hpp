// The hub: which local connections belong to which user, and live delivery.
//
// Every commit is announced through PostgreSQL NOTIFY (store::NotifyChannel)
// as a small reference; every instance, this one included, hears it and its
// fan-out thread reads the new events once from the log, serialises each once
// into a shared frame, and hands that frame to every local connection of every
// member. Per-conversation order holds because one thread fans out in seq
// order; exactly-once and gap-freedom per connection are the connection's
// job (ClientSession keeps a cursor per conversation and fills gaps from the
// log). The log is the truth; this path is only the fast way to hear of it.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chatd/core/metrics.hpp"
#include "chatd/domain/event_publisher.hpp"
#include "chatd/model/conversation.hpp"

namespace chatd::store {
class NotifyChannel;
class Connection;
}  // namespace chatd::store

namespace chatd::realtime {

using Frame = std::shared_ptr<const std::string>;

// One client connection, as the hub sees it. Calls come from the hub's
// threads: implementations hand the work to their own executor and return.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual model::UserId user() const = 0;
  virtual const std::string& token_hash() const = 0;
  virtual void deliver_event(model::ConversationId id, model::Seq seq, Frame frame) = 0;
  virtual void deliver_frame(Frame frame) = 0;  // read, typing, presence
  virtual void revoke() = 0;                    // its token was revoked
  virtual void shutdown() = 0;                  // the server is stopping: close with 1001
};

class Hub final : public domain::EventPublisher {
 public:
  Hub(std::string database_url, store::NotifyChannel& channel, Metrics& metrics);
  ~Hub() override;

  // Told of every token revocation heard (from any instance), and of every
  // LISTEN reset (revocations may have been missed). Set before start().
  void on_revocations(std::function<void(const std::string& token_hash)> revoked,
                      std::function<void()> maybe_missed) {
    revoked_hook_ = std::move(revoked);
    missed_hook_ = std::move(maybe_missed);
  }

  void start();
  void stop();

  void attach(const std::shared_ptr<Subscriber>& s);
  void detach(const Subscriber* s);
  std::size_t connections() const;
  // Calls fn for every attached subscriber (for shutdown).
  void for_each(const std::function<void(const std::shared_ptr<Subscriber>&)>& fn) const;

  // domain::EventPublisher: announce to every instance.
  void events_committed(model::ConversationId id, model::Seq from, model::Seq to) override;
  // Our own commits: handed to local sockets directly, announced to others.
  void events_committed(const std::vector<model::Event>& events) override;
  void read_moved(model::ConversationId id, model::UserId user, model::Seq seq) override;
  void typing(model::ConversationId id, model::UserId user) override;
  void token_revoked(const std::string& token_hash) override;

 private:
  std::function<void(const std::string&)> revoked_hook_;
  std::function<void()> missed_hook_;

  struct Work {
    // 'e' events (a reference), 'E' events of one conversation committed
    // here (with content), 'r' read, 't' typing, 'p' presence, 'x' revoked,
    // 'z' resync
    char kind = 0;
    model::ConversationId conversation = 0;
    model::UserId user = 0;
    model::Seq from = 0, to = 0;
    std::string text;
    std::vector<model::Event> events;  // 'E', ascending seq
  };
  struct ConversationState {
    model::Seq fanned = -1;  // last seq handed to local connections
    std::optional<std::unordered_set<model::UserId>> members;
  };

  void on_notification(const std::string& payload);
  void on_reset();
  void enqueue(Work w);
  void run();
  void handle(store::Connection& db, const Work& w);
  void fan_out_events(store::Connection& db, model::ConversationId id, model::Seq from,
                      model::Seq to);
  // Events committed here: delivered as they are unless something before
  // them has not been fanned out yet (then read from the log).
  void fan_out_committed(store::Connection& db, model::ConversationId id,
                         const std::vector<model::Event>& events);
  // The state of a conversation about to be fanned out from `from`.
  ConversationState& state_for(model::ConversationId id, model::Seq from);
  void deliver(store::Connection& db, model::ConversationId id, const model::Event& e,
               ConversationState& state);
  std::unordered_set<model::UserId>& members(store::Connection& db, model::ConversationId id);
  std::vector<std::shared_ptr<Subscriber>> sessions_of(model::UserId user) const;
  void send_to_members(store::Connection& db, model::ConversationId id, model::UserId except,
                       const Frame& frame);

  std::string url_;
  store::NotifyChannel& channel_;
  std::atomic<std::uint64_t>& delivered_;

  mutable std::shared_mutex sessions_mu_;
  std::unordered_map<model::UserId, std::vector<std::weak_ptr<Subscriber>>> by_user_;
  std::size_t count_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Work> queue_;
  bool stopping_ = false;
  std::thread thread_;
  // Touched only by the fan-out thread.
  std::unordered_map<model::ConversationId, ConversationState> conversations_;
};

}  // namespace chatd::realtime
