#include "chatd/realtime/client_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <spdlog/spdlog.h>

#include "chatd/api/json_io.hpp"
#include "chatd/domain/validation.hpp"
#include "chatd/store/connection.hpp"

namespace chatd::realtime {

namespace asio = boost::asio;
using api::Json;
using model::ConversationId;
using model::Seq;

namespace {
constexpr int kCatchUpPage = 200;

Frame frame_of(const Json& j) { return std::make_shared<const std::string>(j.dump()); }
Frame event_frame(const model::Event& e) {
  return std::make_shared<const std::string>("{\"type\":\"event\",\"event\":" +
                                             api::event_json(e) + "}");
}
}  // namespace

ClientSession::ClientSession(Services services, std::shared_ptr<Transport> transport,
                             model::User user, std::string token_hash)
    : services_(services),
      transport_(std::move(transport)),
      user_(std::move(user)),
      token_hash_(std::move(token_hash)) {}

Task<void> ClientSession::start(std::shared_ptr<ClientSession> self) {
  // Live delivery starts at each conversation's current end; what came before
  // is for `sync`. Read before attaching: an event that commits in between
  // shows up as a gap at the next event, which is then filled from the log.
  auto mine = co_await self->services_.conversations.conversations_of(self->user_.id);
  if (mine) {
    for (const auto& [conv, last_seq] : *mine) self->cursors_[conv] = last_seq;
  }
  self->services_.hub.attach(self);
}

void ClientSession::deliver_event(ConversationId id, Seq seq, Frame frame) {
  asio::post(transport_->executor(), [self = shared_from_this(), id, seq, frame = std::move(frame)] {
    self->on_live_event(id, seq, frame);
  });
}

void ClientSession::deliver_frame(Frame frame) {
  asio::post(transport_->executor(), [self = shared_from_this(), frame = std::move(frame)] {
    if (self->transport_->open()) self->transport_->send(frame);
  });
}

void ClientSession::revoke() {
  asio::post(transport_->executor(), [self = shared_from_this()] {
    self->transport_->close(1008, "token revoked");
  });
}

void ClientSession::shutdown() {
  asio::co_spawn(transport_->executor(), close_when_idle(shared_from_this()), asio::detached);
}

Task<void> ClientSession::close_when_idle(std::shared_ptr<ClientSession> self) {
  // Frames in flight (a send waiting for its commit) are answered first.
  for (int i = 0; i < 500 && self->in_flight() > 0; ++i) {
    asio::steady_timer pause(self->transport_->executor(), std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::use_awaitable);
  }
  self->transport_->close(1001, "server shutting down");
}

void ClientSession::on_live_event(ConversationId id, Seq seq, Frame frame) {
  if (!transport_->open()) return;
  if (syncing_ || catching_up_.count(id)) {
    auto& parked = catching_up_[id];
    parked = std::max(parked, seq);  // a catch-up will read it from the log
    return;
  }
  auto it = cursors_.find(id);
  if (it == cursors_.end()) {
    // A conversation this connection did not know (new, or just joined): take
    // this event from the log, which checks membership, rather than trusting
    // the hub's member cache; earlier events come with `sync`.
    cursors_[id] = seq - 1;
    catching_up_[id] = seq;
    asio::co_spawn(transport_->executor(), catch_up(shared_from_this(), id), asio::detached);
    return;
  }
  if (seq <= it->second) return;  // already delivered (by a catch-up)
  if (seq == it->second + 1) {
    it->second = seq;
    transport_->send(std::move(frame));
    return;
  }
  // A gap: something was missed; read it from the log, in order.
  catching_up_[id] = seq;
  asio::co_spawn(transport_->executor(), catch_up(shared_from_this(), id), asio::detached);
}

Task<void> ClientSession::catch_up(std::shared_ptr<ClientSession> self, ConversationId id) {
  self->catching_up_.try_emplace(id, 0);  // keeps a parked seq if there is one
  for (;;) {
    if (!self->transport_->open()) break;
    Seq after = self->cursors_[id];
    Expected<store::Page<model::Event>> page;
    try {
      page = co_await self->services_.messages.events(self->user_.id, id, after, kCatchUpPage);
    } catch (const std::exception& e) {
      // Never leave a silent gap: the client reconnects and syncs.
      spdlog::warn("ws user {}: catch-up of conversation {} failed: {}", self->user_.id, id,
                   e.what());
      self->transport_->close(1011, "database unavailable; reconnect and sync");
      break;
    }
    if (!page) break;  // no longer a member
    for (const auto& e : page->items) {
      // Paced by the client's reading: a long sync fills at most half the
      // queue, leaving room for live frames, and never trips the slow-client limit.
      while (self->transport_->open() &&
             self->transport_->backlog() > self->transport_->capacity() / 2) {
        asio::steady_timer pause(self->transport_->executor(), std::chrono::milliseconds(5));
        co_await pause.async_wait(asio::use_awaitable);
      }
      if (!self->transport_->open()) break;
      Seq& cursor = self->cursors_[id];
      if (e.seq != cursor + 1) continue;  // delivered meanwhile
      cursor = e.seq;
      self->transport_->send(event_frame(e));
    }
    if (page->has_more) continue;
    // Anything committed while we read arrived live and was parked: read again.
    if (self->catching_up_[id] > self->cursors_[id]) continue;
    break;
  }
  self->catching_up_.erase(id);
}

void ClientSession::reply_error(const Json& id, const Error& error) {
  Json j = {{"type", "error"}, {"error", {{"code", error.code}, {"message", error.message}}}};
  if (!id.is_null()) j["id"] = id;
  transport_->send(frame_of(j));
}

void ClientSession::enqueue_frame(std::string text, std::size_t max_queued) {
  if (inbox_.size() >= max_queued) {
    auto parsed = Json::parse(text, nullptr, false);
    Json id = parsed.is_object() && parsed.contains("id") ? parsed["id"] : Json(nullptr);
    reply_error(id, {ErrorKind::rate_limited, "rate_limited", "too many frames in flight"});
    return;
  }
  inbox_.push_back(std::move(text));
  if (!pumping_) {
    pumping_ = true;
    asio::co_spawn(transport_->executor(), pump(shared_from_this()), asio::detached);
  }
}

Task<void> ClientSession::pump(std::shared_ptr<ClientSession> self) {
  while (!self->inbox_.empty() && self->transport_->open()) {
    std::string text = std::move(self->inbox_.front());
    self->inbox_.pop_front();
    co_await on_frame(self, std::move(text));
  }
  self->inbox_.clear();
  self->pumping_ = false;
}

Task<void> ClientSession::on_frame(std::shared_ptr<ClientSession> self, std::string text) {
  Json frame = Json::parse(text, nullptr, false);
  if (frame.is_discarded() || !frame.is_object()) {
    self->reply_error(nullptr, Error::invalid("frame must be a JSON object"));
    co_return;
  }
  Json id = frame.contains("id") ? frame["id"] : Json(nullptr);
  try {
    co_await handle(self, std::move(frame));
  } catch (const store::Unavailable&) {
    self->reply_error(id, Error::unavailable("database unavailable, retry shortly"));
  } catch (const Overloaded&) {
    self->reply_error(id, Error::unavailable("server is overloaded, retry shortly"));
  } catch (const std::exception& e) {
    spdlog::error("ws user {}: frame failed: {}", self->user_.id, e.what());
    self->reply_error(id, Error{});
  }
}

Task<void> ClientSession::handle(std::shared_ptr<ClientSession> self, Json frame) {
  Json id = frame.contains("id") ? frame["id"] : Json(nullptr);
  auto type = api::string_field(frame, "type");
  if (!type) co_return self->reply_error(id, type.error());
  auto conversation = [&]() { return api::int_field(frame, "conversation_id"); };
  model::UserId me = self->user_.id;

  if (*type == "ping") {
    self->transport_->send(frame_of({{"type", "pong"}, {"id", id}}));
  } else if (*type == "send") {
    auto conv = conversation();
    if (!conv) co_return self->reply_error(id, conv.error());
    auto client_msg_id = api::string_field(frame, "client_msg_id");
    if (!client_msg_id) co_return self->reply_error(id, client_msg_id.error());
    auto body = api::string_field(frame, "body");
    if (!body) co_return self->reply_error(id, body.error());
    auto reply_to = api::optional_int_field(frame, "reply_to");
    if (!reply_to) co_return self->reply_error(id, reply_to.error());
    std::string cid = std::move(*client_msg_id), b = std::move(*body);
    auto sent = co_await self->services_.messages.send(me, *conv, std::move(cid), std::move(b),
                                                        *reply_to);
    if (!sent) co_return self->reply_error(id, sent.error());
    // After commit only: the ack carries the stored message.
    self->transport_->send(std::make_shared<const std::string>(
        "{\"type\":\"ack\",\"id\":" + id.dump() + ",\"message\":" + sent->message.json + "}"));
  } else if (*type == "read") {
    auto conv = conversation();
    if (!conv) co_return self->reply_error(id, conv.error());
    auto seq = api::int_field(frame, "seq");
    if (!seq) co_return self->reply_error(id, seq.error());
    auto read_seq = co_await self->services_.conversations.mark_read(me, *conv, *seq);
    if (!read_seq) co_return self->reply_error(id, read_seq.error());
    self->transport_->send(frame_of({{"type", "ack"}, {"id", id}, {"read_seq", *read_seq}}));
  } else if (*type == "typing") {
    auto conv = conversation();
    if (!conv) co_return self->reply_error(id, conv.error());
    // Only for conversations this socket knows, and at most every 2 s each:
    // typing is relayed through every instance and must not crowd out events.
    auto now = std::chrono::steady_clock::now();
    auto& last = self->last_typing_[*conv];
    if (self->cursors_.count(*conv) && now - last >= std::chrono::seconds(2)) {
      last = now;
      self->services_.conversations.typing(me, *conv);
    }
  } else if (*type == "sync") {
    auto it = frame.find("cursors");
    Json cursors = it == frame.end() || it->is_null() ? Json::object() : *it;
    if (!cursors.is_object()) {
      co_return self->reply_error(id, Error::invalid("cursors must be an object"));
    }
    co_await sync(self, id, std::move(cursors));
  } else if (*type == "auth") {
    self->reply_error(id, Error::invalid("already authenticated"));
  } else {
    self->reply_error(id, Error::invalid("unknown frame type \"" + *type + "\""));
  }
}

Task<void> ClientSession::sync(std::shared_ptr<ClientSession> self, Json id, Json cursors) {
  std::unordered_map<ConversationId, Seq> wanted;
  for (auto& [key, value] : cursors.items()) {
    auto conv = domain::parse_id(key, "cursors key");
    if (!conv) co_return self->reply_error(id, Error::invalid("cursors keys must be conversation ids"));
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
      co_return self->reply_error(id, Error::invalid("cursors values must be non-negative seqs"));
    }
    wanted[*conv] = value.get<std::int64_t>();
  }
  // Until `synced`, every live event is parked and read from the log instead,
  // so each conversation's events come once and in order.
  self->syncing_ = true;
  Expected<std::vector<std::pair<ConversationId, Seq>>> mine;
  try {
    mine = co_await self->services_.conversations.conversations_of(self->user_.id);
  } catch (...) {
    self->syncing_ = false;
    throw;
  }
  if (!mine) {
    self->syncing_ = false;
    co_return self->reply_error(id, mine.error());
  }
  for (const auto& [conv, last_seq] : *mine) {
    auto w = wanted.find(conv);
    // Left out: from the start. Past the end: from the end.
    Seq from = std::min(w == wanted.end() ? 0 : w->second, last_seq);
    self->cursors_[conv] = from;
    if (last_seq <= from && !self->catching_up_.count(conv)) continue;
    co_await catch_up(self, conv);
  }
  self->syncing_ = false;
  // Events that arrived for conversations already caught up: read them too.
  std::vector<ConversationId> parked;
  for (const auto& [conv, seen] : self->catching_up_) {
    if (seen > self->cursors_[conv]) parked.push_back(conv);
  }
  for (ConversationId conv : parked) co_await catch_up(self, conv);
  if (self->transport_->open()) {
    self->transport_->send(frame_of({{"type", "synced"}, {"id", id}}));
  }
}

}  // namespace chatd::realtime
