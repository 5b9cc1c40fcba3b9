#include "chatd/realtime/hub.hpp"

#include <pthread.h>

#include <algorithm>
#include <map>

#include "chatd/realtime/notice.hpp"
#include "chatd/store/notify_channel.hpp"

namespace chatd::realtime {

using model::ConversationId;
using model::Seq;
using model::UserId;

namespace {
FanOut::Counters fan_out_counters(Metrics& m) {
  return {&m.counter("chatd_ws_events_delivered_total",
                     "Event frames handed to WebSocket connections by fan-out."),
          &m.counter("chatd_fanout_dropped_total",
                     "Notices fan-out dropped at a bound (connections recheck against the log)."),
          &m.counter("chatd_fanout_errors_total",
                     "Fan-out reads that failed (retried with backoff).")};
}
}  // namespace

Hub::Hub(store::NotifyChannel& channel, LogReader& reader, PresenceBackend& presence,
         Metrics& metrics, FanOut::Options fan_out, Presence::Options presence_options)
    : channel_(channel),
      fan_out_(reader, sessions_, fan_out, fan_out_counters(metrics)),
      presence_(
          presence, [this](UserId u) { return sessions_.has(u); },
          [this] { return sessions_.users(); }, presence_options) {
  metrics.gauge("chatd_websocket_connections", "Open WebSocket connections.",
                [this] { return static_cast<double>(connections()); });
  metrics.gauge("chatd_notify_listening",
                "1 while the LISTEN connection for cross-instance delivery is up.",
                [this] { return listening() ? 1.0 : 0.0; });
  metrics.counter_fn("chatd_notify_dropped_total",
                "Delivery references dropped because the publish queue was full.",
                [this] { return static_cast<double>(channel_.dropped()); });
  metrics.gauge("chatd_fanout_pending", "Conversations and signals waiting for fan-out.",
                [this] { return static_cast<double>(fan_out_.pending()); });
}

Hub::~Hub() { stop(); }

void Hub::start() {
  started_ = true;
  fan_out_thread_ = std::thread([this] { fan_out_.run(); });
  pthread_setname_np(fan_out_thread_.native_handle(), "fanout");
  presence_.start();
  channel_.start([this](const std::string& m) { on_message(m); }, [this] { on_reset(); });
}

void Hub::stop() {
  if (!started_) return;
  started_ = false;
  channel_.stop();
  presence_.stop();
  fan_out_.stop();
  if (fan_out_thread_.joinable()) fan_out_thread_.join();
}

bool Hub::listening() const { return channel_.listening(); }

// ------------------------------------------------------------ connections

void Hub::attach(const std::shared_ptr<Subscriber>& s) {
  if (sessions_.attach(s)) presence_.changed(s->user());
}

void Hub::detach(const Subscriber* s) {
  UserId user = s->user();
  if (sessions_.detach(s)) presence_.changed(user);
}

// ------------------------------------------------------------- publishing

void Hub::events_committed(const std::vector<model::Event>& events) {
  // One unit of work per conversation, in seq order, queued before the
  // announcement: by the time our own reference comes back through LISTEN,
  // these are delivered and the reference costs no read.
  std::map<ConversationId, std::vector<model::Event>> by_conversation;
  for (const auto& e : events) by_conversation[e.conversation_id].push_back(e);
  for (auto& [id, list] : by_conversation) {
    std::sort(list.begin(), list.end(),
              [](const model::Event& a, const model::Event& b) { return a.seq < b.seq; });
    Seq from = list.front().seq, to = list.back().seq;
    fan_out_.committed_here(std::move(list));
    events_committed(id, from, to);
  }
}

void Hub::events_committed(ConversationId id, Seq from, Seq to) {
  channel_.publish(encode(Notice::events(id, from, to)));
}

void Hub::read_moved(ConversationId id, UserId user, Seq seq) {
  channel_.publish(encode(Notice::read(id, user, seq)));
}

void Hub::typing(ConversationId id, UserId user) {
  channel_.publish(encode(Notice::typing(id, user)));
}

void Hub::standing_changed(ConversationId id, UserId user) {
  channel_.publish(encode(Notice::standing(id, user)));
}

void Hub::presence_shown(UserId user, bool shown) {
  channel_.publish(encode(Notice::visibility(user, shown)));
}

void Hub::token_revoked(const std::string& token_hash) {
  channel_.publish(encode(Notice::revoked(token_hash)));
}

// -------------------------------------------------------------- receiving

void Hub::on_message(const std::string& text) {
  auto notice = decode(text);
  if (!notice) return;  // not ours, or from a newer version
  switch (notice->kind) {
    case Notice::Kind::events:
      fan_out_.announce(notice->conversation, notice->from, notice->to);
      break;
    case Notice::Kind::revoked:
      if (revoked_hook_) revoked_hook_(notice->token_hash);
      for (const auto& s : sessions_.all()) {
        if (s->token_hash() == notice->token_hash) s->revoke();
      }
      break;
    default:
      fan_out_.signal(std::move(*notice));
      break;
  }
}

void Hub::on_reset() {
  if (missed_hook_) missed_hook_();
  fan_out_.reset();
}

}  // namespace chatd::realtime
