// In-memory stand-ins for a client session's socket and services: a log
// whose reads see it as it was when they began and answer a while later.
// Used by the unit tests and the WebSocket frame fuzzer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chatd/realtime/client_session.hpp"
#include "fakes.hpp"

namespace chatd::realtime {

namespace fake_asio = boost::asio;

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(fake_asio::io_context& io) : io_(io) {}
  fake_asio::any_io_executor executor() const override { return io_.get_executor(); }
  void send(Frame frame) override {
    frames.push_back(nlohmann::json::parse(*frame));
    deferred.push_back(false);
  }
  void send_deferred(Frame frame) override {
    frames.push_back(nlohmann::json::parse(*frame));
    deferred.push_back(true);
  }
  bool congested() const override { return false; }
  bool open() const override { return !closed; }
  void close(std::uint16_t code, std::string) override {
    closed = true;
    close_code = code;
  }
  std::vector<nlohmann::json> frames;
  std::vector<bool> deferred;  // frames[i] was sent as one that may wait
  bool closed = false;
  int close_code = 0;

 private:
  fake_asio::io_context& io_;
};

// One user's conversations; every read answers after a random
// min_delay_us..max_delay_us, so reads, live events and syncs interleave
// differently with every seed.
class FakeChat final : public ChatPort {
 public:
  FakeChat(fake_asio::io_context& io, unsigned seed) : io_(io), rng_(seed) {}

  model::Seq append(model::ConversationId c) {
    auto& log = logs[c];
    model::Event e;
    e.conversation_id = c;
    e.seq = static_cast<model::Seq>(log.size()) + 1;
    e.kind = "message.created";
    e.created_at = "2026-12-01T00:00:00.000Z";
    e.data_json = "{}";
    log.push_back(e);
    return e.seq;
  }
  // Like a statement, a read sees the log as it was when it began; the
  // answer arrives a while later.
  Task<Expected<Positions>> conversations_of(model::UserId) override {
    Positions out;
    for (const auto& [c, log] : logs) out.emplace_back(c, static_cast<model::Seq>(log.size()));
    co_await delay();
    co_return out;
  }
  Task<Expected<store::Page<model::Event>>> events(model::UserId, model::ConversationId id, model::Seq after,
                                                   int limit) override {
    auto page = test::page_after(logs[id], after, limit);
    co_await delay();
    co_return page;
  }
  void send(model::UserId, SendCommand command, SendDone done) override {
    submitted.push_back(command.draft.client_msg_id);
    pending.push_back(std::move(done));
  }
  Task<Expected<model::Seq>> mark_read(model::UserId, model::ConversationId, model::Seq seq) override {
    co_await delay();
    co_return seq;
  }
  void typing(model::UserId, model::ConversationId) override {}

  Task<void> delay() {
    fake_asio::steady_timer t(io_, std::chrono::microseconds(std::uniform_int_distribution<int>(
                                  std::min(min_delay_us, max_delay_us), max_delay_us)(rng_)));
    co_await t.async_wait(fake_asio::use_awaitable);
  }

  std::map<model::ConversationId, std::vector<model::Event>> logs;
  std::vector<std::string> submitted;
  std::vector<SendDone> pending;
  int max_delay_us = 2000;
  int min_delay_us = 0;

 private:
  fake_asio::io_context& io_;
  std::mt19937 rng_;
};


}  // namespace chatd::realtime
