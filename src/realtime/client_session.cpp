#include "chatd/realtime/client_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>

#include "chatd/wire/bodies.hpp"
#include "chatd/wire/json_fields.hpp"
#include "chatd/domain/validation.hpp"
#include "chatd/core/failures.hpp"

namespace chatd::realtime {

namespace asio = boost::asio;
using Json = nlohmann::json;
using model::ConversationId;
using model::Seq;

namespace {
constexpr long kRetryAfterMs = 100;  // for frames beyond the in-flight limit

Task<void> pause(asio::any_io_executor ex, std::chrono::milliseconds d) {
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}
}  // namespace

ClientSession::ClientSession(ChatPort& chat, std::shared_ptr<Transport> transport,
                             model::User user, std::string token_hash, Limits limits)
    : chat_(chat),
      transport_(std::move(transport)),
      user_(std::move(user)),
      token_hash_(std::move(token_hash)),
      limits_(limits),
      walk_done_(transport_->executor()) {
  // Never expires: walk_ended() cancels it to wake every waiter.
  walk_done_.expires_at(std::chrono::steady_clock::time_point::max());
}

// ------------------------------------------------------------ from the hub

void ClientSession::deliver_event(ConversationId id, Seq seq, Frame frame) {
  asio::post(transport_->executor(), [self = shared_from_this(), id, seq, frame = std::move(frame)] {
    self->on_live(id, seq, frame);
  });
}

void ClientSession::deliver_frame(Frame frame) {
  asio::post(transport_->executor(), [self = shared_from_this(), frame = std::move(frame)] {
    if (self->transport_->open()) self->transport_->send(frame);
  });
}

void ClientSession::deliver_presence(Frame frame) {
  {
    std::lock_guard lock(presence_mu_);
    if (presence_in_.size() >= limits_.max_presence_waiting) {
      presence_overflow_ = true;
      return;
    }
    presence_in_.push_back(std::move(frame));
    if (presence_in_.size() > 1) return;  // its hand-over is already posted
  }
  asio::post(transport_->executor(), [self = shared_from_this()] { self->take_presence(); });
}

void ClientSession::take_presence() {
  std::vector<Frame> frames;
  bool overflow = false;
  {
    std::lock_guard lock(presence_mu_);
    frames.swap(presence_in_);
    overflow = std::exchange(presence_overflow_, false);
  }
  if (!transport_->open()) return;
  if (overflow) {
    // As the socket says of its own queue ("ws too slow"), with the user.
    spdlog::warn("ws user {}: too slow for presence ({} frames waiting)", user_.id, frames.size());
    transport_->close(1013, "client too slow; reconnect and sync");
    return;
  }
  for (auto& f : frames) transport_->send_deferred(std::move(f));
}

void ClientSession::recheck() {
  asio::post(transport_->executor(), [self = shared_from_this()] {
    if (self->rechecking_ || !self->transport_->open()) return;
    self->rechecking_ = true;
    asio::co_spawn(self->transport_->executor(), do_recheck(self), asio::detached);
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
    co_await pause(self->transport_->executor(), std::chrono::milliseconds(10));
  }
  // Answers just queued still reach the client before the close frame.
  self->transport_->close_after_queued(1001, "server shutting down");
}

// ------------------------------------------------------------- delivery

Task<void> ClientSession::start(std::shared_ptr<ClientSession> self) {
  // Attached already: anything committed from here on arrives live, and
  // anything before is in what we read now. Live delivery starts at each
  // conversation's current end; what came before is for `sync`.
  auto mine = co_await self->chat_.conversations_of(self->user_.id);
  if (!mine) throw std::runtime_error(mine.error().message);
  for (const auto& [conv, last] : *mine) {
    auto [it, fresh] = self->streams_.try_emplace(conv);
    if (fresh) it->second.floor = it->second.cursor = last;
  }
}

void ClientSession::on_live(ConversationId id, Seq seq, Frame frame) {
  if (!transport_->open()) return;
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    // A conversation this connection does not know (new, or just joined):
    // take the event from the log, which checks membership, rather than
    // trusting the hub's member set; earlier events come with `sync`.
    Stream& st = streams_[id];
    st.floor = st.cursor = std::max<Seq>(0, seq - 1);
    st.wanted = seq;
    queue_walk(id);
    return;
  }
  Stream& st = it->second;
  if (seq <= st.cursor) return;  // sent already
  if (st.walking || st.queued) {
    st.wanted = std::max(st.wanted, seq);  // the walk reads up to it
    return;
  }
  if (frame && seq == st.cursor + 1) {
    st.cursor = seq;
    transport_->send(std::move(frame));
    return;
  }
  st.wanted = std::max(st.wanted, seq);  // a gap, or only a hint: read the log
  queue_walk(id);
}

void ClientSession::queue_walk(ConversationId id) {
  streams_[id].queued = true;
  gaps_.push_back(id);
  if (!filling_) {
    filling_ = true;
    asio::co_spawn(transport_->executor(), fill(shared_from_this()), asio::detached);
  }
}

Task<void> ClientSession::fill(std::shared_ptr<ClientSession> self) {
  while (self->transport_->open() && !self->gaps_.empty()) {
    ConversationId id = self->gaps_.front();
    self->gaps_.pop_front();
    auto it = self->streams_.find(id);
    if (it == self->streams_.end()) continue;
    Stream& st = it->second;
    st.queued = false;
    // A sync walking it reads up to `wanted` before it lets go.
    if (st.walking || st.wanted <= st.cursor) continue;
    co_await walk(self, id, st.cursor);
  }
  self->gaps_.clear();
  self->filling_ = false;
}

Task<void> ClientSession::walk(std::shared_ptr<ClientSession> self, ConversationId id, Seq from) {
  auto it = self->streams_.find(id);
  if (it == self->streams_.end()) co_return;
  // A reference into the map stays valid while other entries come and go;
  // only this walk (the one owner) may erase this entry.
  Stream& st = it->second;
  st.walking = true;
  ++self->walks_;
  const Seq lowest = std::min(from, st.floor);
  // (from, back_end] was never sent here: send it first, then go on from the cursor.
  const Seq back_end = from < st.floor ? st.floor : from;
  st.cursor = std::max(st.cursor, from);
  Seq pos = from < st.floor ? from : st.cursor;
  bool member = true;
  bool complete = false;
  auto& t = *self->transport_;
  for (;;) {
    if (!t.open()) break;
    Expected<store::Page<model::Event>> page;
    try {
      page = co_await self->chat_.events(self->user_.id, id, pos, self->limits_.catch_up_page);
    } catch (const std::exception& e) {
      // Never leave a silent gap: the client reconnects and syncs.
      spdlog::warn("ws user {}: catch-up of conversation {} failed: {}", self->user_.id, id,
                   e.what());
      t.close(1011, "database unavailable; reconnect and sync");
      break;
    }
    if (!page) {
      member = false;  // not a member (any more)
      break;
    }
    for (const auto& e : page->items) {
      // Paced by the client's reading: a long catch-up never trips the
      // slow-client bound, and leaves room for live frames.
      while (t.open() && t.congested()) {
        co_await pause(t.executor(), std::chrono::milliseconds(5));
      }
      if (!t.open()) break;
      if (e.seq <= pos) continue;
      pos = e.seq;
      if (e.seq <= back_end) {
        t.send(event_frame(e));
      } else if (e.seq > st.cursor) {
        st.cursor = e.seq;
        t.send(event_frame(e));
      }
      if (pos >= back_end && pos < st.cursor) pos = st.cursor;  // sent live already
    }
    if (!t.open()) break;
    if (page->has_more) continue;
    // Heard of while we read: read again. Checked on this thread, so no
    // live event can slip in between this test and letting go.
    if (pos >= back_end && st.wanted > st.cursor) {
      pos = std::max(pos, st.cursor);
      continue;
    }
    complete = true;
    break;
  }
  if (member) {
    if (complete) st.floor = std::min(st.floor, lowest);
    st.walking = false;
  } else {
    self->streams_.erase(id);
  }
  --self->walks_;
  self->walk_ended();
}

void ClientSession::walk_ended() { walk_done_.cancel(); }

Task<void> ClientSession::wait_for_walk(std::shared_ptr<ClientSession> self, ConversationId id) {
  for (;;) {
    auto it = self->streams_.find(id);
    if (it == self->streams_.end() || !it->second.walking || !self->transport_->open()) co_return;
    boost::system::error_code ec;
    co_await self->walk_done_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

Task<void> ClientSession::do_recheck(std::shared_ptr<ClientSession> self) {
  // Spread the reads of many connections told at once.
  thread_local std::minstd_rand rng(std::random_device{}());
  auto spread = static_cast<int>(self->limits_.recheck_spread.count());
  if (spread > 0) {
    co_await pause(self->transport_->executor(),
                   std::chrono::milliseconds(std::uniform_int_distribution<int>(0, spread)(rng)));
  }
  Expected<ChatPort::Positions> mine;
  try {
    mine = co_await self->chat_.conversations_of(self->user_.id);
  } catch (const std::exception& e) {
    self->transport_->close(1011, "database unavailable; reconnect and sync");
    self->rechecking_ = false;
    co_return;
  }
  self->rechecking_ = false;
  if (!mine || !self->transport_->open()) co_return;
  for (const auto& [conv, last] : *mine) {
    auto it = self->streams_.find(conv);
    if (it == self->streams_.end()) {
      // Joined while live delivery was unsure: its newest page at most; the
      // rest is history (REST) or `sync`.
      Stream& st = self->streams_[conv];
      st.floor = st.cursor = std::max<Seq>(0, last - self->limits_.catch_up_page);
      st.wanted = last;
      if (last > st.cursor) self->queue_walk(conv);
    } else if (last > it->second.cursor) {
      self->on_live(conv, last, nullptr);
    }
  }
}

// ------------------------------------------------------------ frames in

void ClientSession::reply(Frame frame) {
  if (transport_->open()) transport_->send(std::move(frame));
}

void ClientSession::on_frame(const std::string& text) {
  auto parsed = wire::parse_object(text, "frame");
  if (!parsed) return reply(error_frame(nullptr, parsed.error()));
  const Json& frame = *parsed;
  Json id = frame.contains("id") ? frame["id"] : Json(nullptr);
  auto type = wire::string_field(frame, "type");
  if (!type) return reply(error_frame(id, type.error()));
  const std::string& t = *type;
  if (t == "ping") return reply(pong_frame(id));
  if (t == "typing") return handle_typing(frame, id);
  if (t == "auth") return reply(error_frame(id, Error::invalid("already authenticated")));
  if (t != "send" && t != "read" && t != "sync") {
    return reply(error_frame(id, Error::invalid("unknown frame type \"" + t + "\"")));
  }
  if (in_flight_ >= limits_.max_in_flight) {
    Error e{ErrorKind::rate_limited, "rate_limited",
            "more than " + std::to_string(limits_.max_in_flight) + " frames in flight"};
    return reply(error_frame(id, e, kRetryAfterMs));
  }
  if (t == "send") return handle_send(frame, id);
  if (t == "sync") return handle_sync(frame, id);
  auto conv = wire::parse_conversation_id(frame);
  if (!conv) return reply(error_frame(id, conv.error()));
  auto mark = wire::parse_read_mark(frame);
  if (!mark) return reply(error_frame(id, mark.error()));
  ++in_flight_;
  asio::co_spawn(transport_->executor(), read(shared_from_this(), id, *conv, mark->seq),
                 asio::detached);
}

void ClientSession::handle_send(const Json& frame, const Json& id) {
  std::uint64_t n = sends_first_ + sends_.size();
  sends_.push_back({id, nullptr, std::chrono::steady_clock::now()});
  ++in_flight_;
  auto answer_now = [this, n, &id](const Error& e) { answer_send(n, error_frame(id, e)); };
  auto conv = wire::parse_conversation_id(frame);
  if (!conv) return answer_now(conv.error());
  auto message = wire::parse_new_message(frame);
  if (!message) return answer_now(message.error());
  SendCommand command{*conv, std::move(*message)};
  std::weak_ptr<ClientSession> weak = shared_from_this();
  auto executor = transport_->executor();
  // Queued for the group commit now, in arrival order; answered in that order.
  chat_.send(user_.id, std::move(command),
             [weak, executor, n, id](std::exception_ptr ep,
                                     std::optional<domain::SendBatcher::Result> r) {
               auto self = weak.lock();
               if (!self) return;
               Frame answer;
               if (ep) {
                 answer = failure_frame(id, ep, self->user_.id);
               } else if (!r || !*r) {
                 answer = error_frame(id, r ? r->error() : Error{});
               } else {
                 // After commit only: the ack carries the stored message.
                 answer = send_ack_frame(id, r->value().message.json);
               }
               asio::post(executor, [self, n, answer] { self->answer_send(n, answer); });
             });
}

void ClientSession::answer_send(std::uint64_t n, Frame answer) {
  if (n < sends_first_ || n - sends_first_ >= sends_.size()) return;
  sends_[n - sends_first_].answer = std::move(answer);
  while (!sends_.empty() && sends_.front().answer) {
    if (limits_.on_send_answered) {
      limits_.on_send_answered(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                                             sends_.front().arrived)
                                   .count());
    }
    reply(std::move(sends_.front().answer));
    sends_.pop_front();
    ++sends_first_;
    --in_flight_;
  }
}

Frame ClientSession::failure_frame(const Json& id, std::exception_ptr ep, model::UserId user) {
  return error_frame(id, error_for_failure(ep, "ws user " + std::to_string(user)));
}

Task<void> ClientSession::read(std::shared_ptr<ClientSession> self, Json id, ConversationId conv,
                               Seq seq) {
  Frame answer;
  try {
    auto r = co_await self->chat_.mark_read(self->user_.id, conv, seq);
    answer = r ? read_ack_frame(id, *r) : error_frame(id, r.error());
  } catch (...) {
    answer = failure_frame(id, std::current_exception(), self->user_.id);
  }
  --self->in_flight_;
  self->reply(std::move(answer));
}

void ClientSession::handle_typing(const Json& frame, const Json& id) {
  auto conv = wire::parse_conversation_id(frame);
  if (!conv) return reply(error_frame(id, conv.error()));
  // Only for conversations this socket knows, and at most every 2 s each:
  // typing is relayed through every instance and must not crowd out events.
  auto now = std::chrono::steady_clock::now();
  if (!streams_.count(*conv)) return;
  auto& last = last_typing_[*conv];
  if (now - last < std::chrono::seconds(2)) return;
  last = now;
  chat_.typing(user_.id, *conv);
}

void ClientSession::handle_sync(const Json& frame, const Json& id) {
  auto it = frame.find("cursors");
  const Json empty = Json::object();
  const Json& cursors = it == frame.end() || it->is_null() ? empty : *it;
  if (!cursors.is_object()) return reply(error_frame(id, Error::invalid("cursors must be an object")));
  SyncRequest request{id, {}};
  for (const auto& [key, value] : cursors.items()) {
    auto conv = domain::parse_id(key, "cursors key");
    if (!conv) {
      return reply(error_frame(id, Error::invalid("cursors keys must be conversation ids")));
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
      return reply(error_frame(id, Error::invalid("cursors values must be non-negative seqs")));
    }
    request.cursors[*conv] = value.get<std::int64_t>();
  }
  syncs_.push_back(std::move(request));
  ++in_flight_;
  if (!syncing_) {
    syncing_ = true;
    asio::co_spawn(transport_->executor(), run_syncs(shared_from_this()), asio::detached);
  }
}

Task<void> ClientSession::run_syncs(std::shared_ptr<ClientSession> self) {
  while (!self->syncs_.empty() && self->transport_->open()) {
    SyncRequest request = std::move(self->syncs_.front());
    self->syncs_.pop_front();
    Json id = request.id;
    Frame failure;
    try {
      co_await sync(self, std::move(request));
    } catch (...) {
      failure = failure_frame(id, std::current_exception(), self->user_.id);
    }
    if (failure) self->reply(std::move(failure));
    --self->in_flight_;
  }
  self->in_flight_ -= self->syncs_.size();
  self->syncs_.clear();
  self->syncing_ = false;
}

Task<void> ClientSession::sync(std::shared_ptr<ClientSession> self, SyncRequest request) {
  auto mine = co_await self->chat_.conversations_of(self->user_.id);
  if (!mine) co_return self->reply(error_frame(request.id, mine.error()));
  for (const auto& [conv, last] : *mine) {
    if (!self->transport_->open()) co_return;
    auto w = request.cursors.find(conv);
    // Left out: from the start. Past the end: from the end.
    Seq from = std::min(w == request.cursors.end() ? 0 : w->second, last);
    co_await wait_for_walk(self, conv);
    auto [it, fresh] = self->streams_.try_emplace(conv);
    Stream& st = it->second;
    if (fresh) {
      st.floor = st.cursor = from;
      if (from >= last) continue;
    } else if (from >= st.floor && last <= st.cursor) {
      continue;  // everything after `from` was sent on this connection
    }
    co_await walk(self, conv, from);
  }
  if (self->transport_->open()) self->reply(synced_frame(request.id));
}

// ---------------------------------------------------------------- tests

std::optional<std::pair<Seq, Seq>> ClientSession::position(ConversationId id) const {
  auto it = streams_.find(id);
  if (it == streams_.end()) return std::nullopt;
  return std::make_pair(it->second.floor, it->second.cursor);
}

bool ClientSession::idle() const {
  return !filling_ && walks_ == 0 && !syncing_ && in_flight_ == 0 && !rechecking_;
}

}  // namespace chatd::realtime
