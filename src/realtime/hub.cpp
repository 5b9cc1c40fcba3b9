#include "chatd/realtime/hub.hpp"

#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

#include <spdlog/spdlog.h>

#include "chatd/api/json_io.hpp"
#include "chatd/store/connection.hpp"
#include "chatd/store/conversation_store.hpp"
#include "chatd/store/message_store.hpp"
#include "chatd/store/notify_channel.hpp"
#include "chatd/store/transaction.hpp"

namespace chatd::realtime {

using model::ConversationId;
using model::Seq;
using model::UserId;

namespace {

constexpr int kFanOutPage = 500;
// Conversations whose fan-out state and members are cached; beyond this the
// cache starts over (state is rebuilt on demand, and sockets fill any gap that
// causes from the log).
constexpr std::size_t kMaxCachedConversations = 100'000;

// "a:b:c" → numbers; false when malformed.
bool split_numbers(std::string_view text, std::vector<std::int64_t>& out) {
  out.clear();
  while (!text.empty()) {
    auto colon = text.find(':');
    auto part = text.substr(0, colon);
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || ptr != part.data() + part.size()) return false;
    out.push_back(v);
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
  }
  return true;
}

Frame make_frame(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

}  // namespace

Hub::Hub(std::string database_url, store::NotifyChannel& channel, Metrics& metrics)
    : url_(std::move(database_url)),
      channel_(channel),
      delivered_(metrics.counter("chatd_ws_events_delivered_total",
                                 "Event frames handed to WebSocket connections.")) {
  metrics.gauge("chatd_websocket_connections", "Open WebSocket connections.",
                [this] { return static_cast<double>(connections()); });
  metrics.gauge("chatd_notify_listening",
                "1 while the LISTEN connection for cross-instance delivery is up.",
                [this] { return channel_.listening() ? 1.0 : 0.0; });
  metrics.gauge("chatd_notify_dropped",
                "Delivery references dropped because the publish queue was full.",
                [this] { return static_cast<double>(channel_.dropped()); });
}

Hub::~Hub() { stop(); }

void Hub::start() {
  thread_ = std::thread([this] { run(); });
  pthread_setname_np(thread_.native_handle(), "fanout");
  channel_.start([this](const std::string& p) { on_notification(p); }, [this] { on_reset(); });
}

void Hub::stop() {
  channel_.stop();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// ------------------------------------------------------------ connections

void Hub::attach(const std::shared_ptr<Subscriber>& s) {
  // Presence is published under the lock (publish never blocks), so a
  // concurrent detach cannot put "offline" after this "online".
  std::unique_lock lock(sessions_mu_);
  auto& list = by_user_[s->user()];
  bool first = list.empty();
  list.push_back(s);
  ++count_;
  if (first) channel_.publish("p:" + std::to_string(s->user()) + ":1");
}

void Hub::detach(const Subscriber* s) {
  UserId user = s->user();
  std::unique_lock lock(sessions_mu_);
  auto it = by_user_.find(user);
  if (it == by_user_.end()) return;
  auto& list = it->second;
  auto before = list.size();
  list.erase(std::remove_if(list.begin(), list.end(),
                            [s](const std::weak_ptr<Subscriber>& w) {
                              auto p = w.lock();
                              return !p || p.get() == s;
                            }),
             list.end());
  count_ -= std::min(count_, before - list.size());
  if (list.empty()) {
    by_user_.erase(it);
    channel_.publish("p:" + std::to_string(user) + ":0");
  }
}

std::size_t Hub::connections() const {
  std::shared_lock lock(sessions_mu_);
  return count_;
}

void Hub::for_each(const std::function<void(const std::shared_ptr<Subscriber>&)>& fn) const {
  std::vector<std::shared_ptr<Subscriber>> all;
  {
    std::shared_lock lock(sessions_mu_);
    for (const auto& [user, list] : by_user_) {
      for (const auto& w : list) {
        if (auto p = w.lock()) all.push_back(std::move(p));
      }
    }
  }
  for (const auto& s : all) fn(s);
}

std::vector<std::shared_ptr<Subscriber>> Hub::sessions_of(UserId user) const {
  std::vector<std::shared_ptr<Subscriber>> out;
  std::shared_lock lock(sessions_mu_);
  auto it = by_user_.find(user);
  if (it == by_user_.end()) return out;
  for (const auto& w : it->second) {
    if (auto p = w.lock()) out.push_back(std::move(p));
  }
  return out;
}

// ------------------------------------------------------------- publishing

void Hub::events_committed(const std::vector<model::Event>& events) {
  // One unit of work per conversation, in seq order, queued before the
  // announcement: by the time our own reference comes back through LISTEN,
  // these are delivered and the reference costs no read.
  // One reference per conversation covers its range: other instances read
  // from their own position up to `to` anyway.
  std::map<ConversationId, std::vector<model::Event>> by_conversation;
  for (const auto& e : events) by_conversation[e.conversation_id].push_back(e);
  std::vector<std::tuple<ConversationId, Seq, Seq>> refs;
  for (auto& [id, list] : by_conversation) {
    std::sort(list.begin(), list.end(),
              [](const model::Event& a, const model::Event& b) { return a.seq < b.seq; });
    Work w;
    w.kind = 'E';
    w.conversation = id;
    w.from = list.front().seq;
    w.to = list.back().seq;
    refs.emplace_back(id, w.from, w.to);
    w.events = std::move(list);
    enqueue(std::move(w));
  }
  for (const auto& [id, from, to] : refs) events_committed(id, from, to);
}

void Hub::events_committed(ConversationId id, Seq from, Seq to) {
  channel_.publish("e:" + std::to_string(id) + ":" + std::to_string(from) + ":" +
                   std::to_string(to));
}

void Hub::read_moved(ConversationId id, UserId user, Seq seq) {
  channel_.publish("r:" + std::to_string(id) + ":" + std::to_string(user) + ":" +
                   std::to_string(seq));
}

void Hub::typing(ConversationId id, UserId user) {
  channel_.publish("t:" + std::to_string(id) + ":" + std::to_string(user));
}

void Hub::token_revoked(const std::string& token_hash) { channel_.publish("x:" + token_hash); }

// -------------------------------------------------------------- receiving

void Hub::on_notification(const std::string& payload) {
  if (payload.size() < 3 || payload[1] != ':') return;
  Work w;
  w.kind = payload[0];
  std::string_view rest(payload);
  rest.remove_prefix(2);
  if (w.kind == 'x') {
    w.text = std::string(rest);
    enqueue(std::move(w));
    return;
  }
  std::vector<std::int64_t> n;
  if (!split_numbers(rest, n)) return;
  switch (w.kind) {
    case 'e':
      if (n.size() != 3) return;
      w.conversation = n[0], w.from = n[1], w.to = n[2];
      break;
    case 'r':
      if (n.size() != 3) return;
      w.conversation = n[0], w.user = n[1], w.to = n[2];
      break;
    case 't':
      if (n.size() != 2) return;
      w.conversation = n[0], w.user = n[1];
      break;
    case 'p':
      if (n.size() != 2) return;
      w.user = n[0], w.to = n[1];
      break;
    default:
      return;
  }
  enqueue(std::move(w));
}

void Hub::on_reset() {
  Work w;
  w.kind = 'z';
  enqueue(std::move(w));
}

void Hub::enqueue(Work w) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(w));
  }
  cv_.notify_one();
}

void Hub::run() {
  store::Connection db(url_);
  for (;;) {
    Work w;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      w = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      handle(db, w);
    } catch (const std::exception& e) {
      // The database is away: try this work again shortly. Clients also
      // recover on their own with `sync`.
      spdlog::warn("fan-out: {}; retrying", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      enqueue(std::move(w));
    }
  }
}

void Hub::handle(store::Connection& db, const Work& w) {
  switch (w.kind) {
    case 'e':
      fan_out_events(db, w.conversation, w.from, w.to);
      break;
    case 'E':
      fan_out_committed(db, w.conversation, w.events);
      break;
    case 'z':  // the listener was away: read every known conversation's log again
      if (missed_hook_) missed_hook_();
      for (auto& [id, state] : conversations_) {
        if (state.fanned >= 0) fan_out_events(db, id, state.fanned + 1, state.fanned + 1);
      }
      break;
    case 'r':
      send_to_members(db, w.conversation, w.user,
                      make_frame("{\"type\":\"read\",\"conversation_id\":" +
                                 std::to_string(w.conversation) + ",\"user_id\":" +
                                 std::to_string(w.user) + ",\"seq\":" + std::to_string(w.to) + "}"));
      break;
    case 't':
      if (!members(db, w.conversation).count(w.user)) return;  // only members may type
      send_to_members(db, w.conversation, w.user,
                      make_frame("{\"type\":\"typing\",\"conversation_id\":" +
                                 std::to_string(w.conversation) + ",\"user_id\":" +
                                 std::to_string(w.user) + "}"));
      break;
    case 'p': {
      std::vector<UserId> contacts;
      store::run_transaction(db, [&](store::Transaction& tx) {
        contacts = store::ConversationStore(tx).contacts(w.user);
        return true;
      });
      auto frame = make_frame("{\"type\":\"presence\",\"user_id\":" + std::to_string(w.user) +
                              ",\"online\":" + (w.to ? "true" : "false") + "}");
      for (UserId u : contacts) {
        for (const auto& s : sessions_of(u)) s->deliver_frame(frame);
      }
      break;
    }
    case 'x':
      if (revoked_hook_) revoked_hook_(w.text);
      for_each([&](const std::shared_ptr<Subscriber>& s) {
        if (s->token_hash() == w.text) s->revoke();
      });
      break;
  }
}

std::unordered_set<UserId>& Hub::members(store::Connection& db, ConversationId id) {
  auto& state = conversations_[id];
  if (!state.members) {
    std::vector<UserId> ids;
    store::run_transaction(db, [&](store::Transaction& tx) {
      ids = store::ConversationStore(tx).member_ids(id);
      return true;
    });
    state.members.emplace(ids.begin(), ids.end());
  }
  return *state.members;
}

void Hub::send_to_members(store::Connection& db, ConversationId id, UserId except,
                          const Frame& frame) {
  for (UserId u : members(db, id)) {
    if (u == except) continue;
    for (const auto& s : sessions_of(u)) s->deliver_frame(frame);
  }
}

Hub::ConversationState& Hub::state_for(ConversationId id, Seq from) {
  if (conversations_.size() >= kMaxCachedConversations && !conversations_.count(id)) {
    conversations_.clear();
  }
  auto& state = conversations_[id];
  if (state.fanned < 0) {
    state.fanned = from - 1;
    // Members loaded earlier (for a typing or read frame) may predate events
    // we will never fan out here; start from the members of now.
    state.members.reset();
  }
  return state;
}

void Hub::deliver(store::Connection& db, ConversationId id, const model::Event& e,
                  ConversationState& state) {
  auto& who = members(db, id);
  // Membership changes take effect at their own seq: the added member
  // gets member.added, the removed one gets member.removed and no more.
  auto subject = [&e]() -> UserId {
    auto data = api::Json::parse(e.data_json, nullptr, false);
    return data.is_object() ? data.value("user_id", UserId{0}) : 0;
  };
  if (e.kind == "member.added") who.insert(subject());
  auto frame = make_frame("{\"type\":\"event\",\"event\":" + api::event_json(e) + "}");
  std::size_t n = 0;
  for (UserId u : who) {
    for (const auto& s : sessions_of(u)) {
      s->deliver_event(id, e.seq, frame);
      ++n;
    }
  }
  delivered_.fetch_add(n, std::memory_order_relaxed);
  if (e.kind == "member.removed") who.erase(subject());
  state.fanned = e.seq;
}

void Hub::fan_out_events(store::Connection& db, ConversationId id, Seq from, Seq to) {
  auto& state = state_for(id, from);
  if (to <= state.fanned) return;
  for (;;) {
    store::Page<model::Event> page;
    store::run_transaction(db, [&](store::Transaction& tx) {
      page = store::MessageStore(tx).events(id, state.fanned, kFanOutPage);
      return true;
    });
    for (const auto& e : page.items) deliver(db, id, e, state);
    if (!page.has_more) break;
  }
}

void Hub::fan_out_committed(store::Connection& db, ConversationId id,
                            const std::vector<model::Event>& events) {
  if (events.empty()) return;
  auto& state = state_for(id, events.front().seq);
  if (events.front().seq > state.fanned + 1) {
    // Something committed before these has not reached us yet (another
    // batch's hand-off, or another instance's commit): the log has it all.
    fan_out_events(db, id, events.front().seq, events.back().seq);
    return;
  }
  for (const auto& e : events) {
    if (e.seq > state.fanned) deliver(db, id, e, state);
  }
}

}  // namespace chatd::realtime
