// The hub wires the real-time parts together; each part has one job:
//   SessionIndex  which local connections belong to which user
//   FanOut        committed events to the local connections of members
//   Presence      online/offline across instances, shared in PostgreSQL
//   Notice        the typed references instances exchange over NOTIFY
// Every commit is announced as a reference on store::NotifyChannel; every
// instance, this one included, hears it and fans out from the log. Events
// committed here are also handed to FanOut in-process, with their content.
// The log is the truth; this path is only the fast way to hear of it:
// exactly-once and gap-freedom per connection are ClientSession's job.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chatd/core/metrics.hpp"
#include "chatd/domain/event_publisher.hpp"
#include "chatd/realtime/fan_out.hpp"
#include "chatd/realtime/presence.hpp"
#include "chatd/realtime/session_index.hpp"

namespace chatd::store {
class NotifyChannel;
}

namespace chatd::realtime {

class Hub final : public domain::EventPublisher {
 public:
  Hub(store::NotifyChannel& channel, LogReader& reader, PresenceBackend& presence,
      Metrics& metrics, FanOut::Options fan_out = {}, Presence::Options presence_options = {});
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
  bool listening() const;

  // Every attach is matched by one detach when the connection ends.
  void attach(const std::shared_ptr<Subscriber>& s);
  void detach(const Subscriber* s);
  std::size_t connections() const { return sessions_.size(); }
  std::vector<std::shared_ptr<Subscriber>> subscribers() const { return sessions_.all(); }

  // domain::EventPublisher: announce to every instance.
  void events_committed(model::ConversationId id, model::Seq from, model::Seq to) override;
  // Our own commits: handed to local sockets directly, announced to others.
  void events_committed(const std::vector<model::Event>& events) override;
  void read_moved(model::ConversationId id, model::UserId user, model::Seq seq) override;
  void typing(model::ConversationId id, model::UserId user) override;
  void token_revoked(const std::string& token_hash) override;
  void standing_changed(model::ConversationId id, model::UserId user) override;
  void presence_shown(model::UserId user, bool shown) override;

 private:
  void on_message(const std::string& text);
  void on_reset();

  store::NotifyChannel& channel_;
  std::function<void(const std::string&)> revoked_hook_;
  std::function<void()> missed_hook_;
  SessionIndex sessions_;
  FanOut fan_out_;
  Presence presence_;
  std::thread fan_out_thread_;
  bool started_ = false;
};

}  // namespace chatd::realtime
