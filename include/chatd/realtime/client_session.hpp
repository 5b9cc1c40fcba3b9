// One authenticated WebSocket client: the protocol of GET /v1/ws without the
// transport. Frames in (send, read, typing, sync, ping) are answered through
// the domain services; events out keep a cursor per conversation so that each
// connection gets every event once, in seq order, with gaps filled from the
// log. All state is touched only on the transport's executor (one IO thread).
#pragma once

#include <utility>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "chatd/core/async.hpp"
#include "chatd/api/json_io.hpp"
#include "chatd/domain/conversation_service.hpp"
#include "chatd/domain/message_service.hpp"
#include "chatd/realtime/hub.hpp"

namespace chatd::realtime {

// The socket side, implemented in src/net (Beast stays there).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual boost::asio::any_io_executor executor() const = 0;
  // On the executor. A full outgoing queue closes the connection (1013).
  virtual void send(Frame frame) = 0;
  virtual std::size_t backlog() const = 0;
  virtual std::size_t capacity() const = 0;  // the bound send() enforces
  virtual bool open() const = 0;
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

struct Services {
  domain::MessageService& messages;
  domain::ConversationService& conversations;
  Hub& hub;
};

class ClientSession final : public Subscriber, public std::enable_shared_from_this<ClientSession> {
 public:
  ClientSession(Services services, std::shared_ptr<Transport> transport, model::User user,
                std::string token_hash);

  // Subscriber (any thread).
  model::UserId user() const override { return user_.id; }
  const std::string& token_hash() const override { return token_hash_; }
  void deliver_event(model::ConversationId id, model::Seq seq, Frame frame) override;
  void deliver_frame(Frame frame) override;
  void revoke() override;
  void shutdown() override;

  // Sets the cursors and attaches to the hub; runs on the executor.
  static Task<void> start(std::shared_ptr<ClientSession> self);
  // Queues one client frame (on the executor). Frames are handled one after
  // another, in arrival order; beyond `max_queued` the frame is refused with
  // an error `rate_limited`.
  void enqueue_frame(std::string text, std::size_t max_queued);
  std::size_t in_flight() const { return inbox_.size() + (pumping_ ? 1 : 0); }

 private:
  void on_live_event(model::ConversationId id, model::Seq seq, Frame frame);
  static Task<void> pump(std::shared_ptr<ClientSession> self);
  static Task<void> on_frame(std::shared_ptr<ClientSession> self, std::string text);
  static Task<void> close_when_idle(std::shared_ptr<ClientSession> self);
  static Task<void> catch_up(std::shared_ptr<ClientSession> self, model::ConversationId id);
  static Task<void> handle(std::shared_ptr<ClientSession> self, api::Json frame);
  static Task<void> sync(std::shared_ptr<ClientSession> self, api::Json id, api::Json cursors);
  void reply_error(const api::Json& id, const Error& error);

  Services services_;
  std::shared_ptr<Transport> transport_;
  model::User user_;
  std::string token_hash_;
  std::deque<std::string> inbox_;
  bool pumping_ = false;
  bool syncing_ = false;  // live events are parked while a sync runs
  std::unordered_map<model::ConversationId, std::chrono::steady_clock::time_point> last_typing_;
  // Last seq delivered on this connection, per conversation.
  std::unordered_map<model::ConversationId, model::Seq> cursors_;
  // Conversations being filled from the log, and the newest live seq seen meanwhile.
  std::unordered_map<model::ConversationId, model::Seq> catching_up_;
};

}  // namespace chatd::realtime
