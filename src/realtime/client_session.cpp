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
  for (int i = 0; i < 500 && self->in_flight_ > 0; ++i) {
    asio::steady_timer pause(self->transport_->executor(), std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::use_awaitable);
  }
  self->transport_->close(1001, "server shutting down");
}

void ClientSession::on_live_event(ConversationId id, Seq seq, Frame frame) {
  if (!transport_->open()) return;
  if (auto c = catching_up_.find(id); c != catching_up_.end()) {
    c->second = std::max(c->second, seq);  // the catch-up will read it from the log
    return;
  }
  auto it = cursors_.find(id);
  if (it == cursors_.end()) {
    // A conversation this connection did not know (new, or just joined): live
    // from its first event here; earlier ones come with `sync`.
    cursors_[id] = seq;
    transport_->send(std::move(frame));
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
  self->catching_up_.try_emplace(id, 0);
  for (;;) {
    if (!self->transport_->open()) break;
    Seq after = self->cursors_[id];
    Expected<store::Page<model::Event>> page;
    try {
      page = co_await self->services_.messages.events(self->user_.id, id, after, kCatchUpPage);
    } catch (const std::exception& e) {
      spdlog::warn("ws user {}: catch-up of conversation {} failed: {}", self->user_.id, id,
                   e.what());
      break;  // the client recovers with `sync`
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

Task<void> ClientSession::on_frame(std::shared_ptr<ClientSession> self, std::string text) {
  Json frame = Json::parse(text, nullptr, false);
  if (frame.is_discarded() || !frame.is_object()) {
    self->reply_error(nullptr, Error::invalid("frame must be a JSON object"));
    co_return;
  }
  Json id = frame.contains("id") ? frame["id"] : Json(nullptr);
  ++self->in_flight_;
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
  --self->in_flight_;
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
    self->services_.conversations.typing(me, *conv);
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
  auto mine = co_await self->services_.conversations.conversations_of(self->user_.id);
  if (!mine) co_return self->reply_error(id, mine.error());
  for (const auto& [conv, last_seq] : *mine) {
    auto w = wanted.find(conv);
    Seq from = w == wanted.end() ? 0 : w->second;  // left out: from the start
    self->cursors_[conv] = from;
    if (last_seq <= from) continue;
    co_await catch_up(self, conv);
  }
  self->transport_->send(frame_of({{"type", "synced"}, {"id", id}}));
}

}  // namespace chatd::realtime
