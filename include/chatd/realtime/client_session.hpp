// One authenticated WebSocket client: the protocol of GET /v1/ws without the
// socket. All state is touched only on the transport's executor (one IO
// thread), so no step below needs a lock.
//
// Delivery, per conversation (a Stream):
//   (floor, cursor]  the seqs this connection has sent, or that the client
//                    said it holds (a sync cursor past ours). Nothing in it is
//                    ever sent again: once per connection.
//   walking          a walk owns the conversation: it reads the log and sends
//                    what the connection lacks, in seq order. While it runs,
//                    live events are not sent; only the newest seq heard is
//                    kept (`wanted`), and the walk reads again until its
//                    cursor reaches it. It ends only when, on this thread, no
//                    seq above the cursor has been heard; from then on live
//                    events go out directly again.
//   live             not walking: event cursor+1 goes out as it arrives; a seq
//                    further ahead (a gap), or a hint without content, queues
//                    a walk from the cursor.
// A sync walks each conversation from the client's cursor: first the seqs in
// (client cursor, floor] that the connection never sent, then on from the
// cursor; what was sent live is skipped. Invariant (docs/realtime.md): every
// event after the client's position is sent exactly once; a conversation is
// live whenever no walk owns it, and a walk never ends with a heard seq unsent.
//
// Frames in are pipelined: up to Limits::max_in_flight are handled at once.
// Sends are handed to the group commit in arrival order and answered in that
// order; ping and typing are answered at once, read when its write is done,
// syncs one after another.
#pragma once

#include <functional>

#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "chatd/core/async.hpp"
#include "chatd/core/fifo.hpp"
#include "chatd/model/user.hpp"
#include "chatd/realtime/chat_port.hpp"
#include "chatd/realtime/subscriber.hpp"

namespace chatd::realtime {

// The socket side, implemented in src/net (Beast stays there).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual boost::asio::any_io_executor executor() const = 0;
  // On the executor. A queue over its bounds (frames or bytes) closes the
  // connection (1013): a client too slow to read recovers with `sync`.
  virtual void send(Frame frame) = 0;
  // Like send, for a frame that may wait behind every frame sent before or
  // after it (presence): written once nothing else waits, in the order given.
  virtual void send_deferred(Frame frame) = 0;
  // More than half of either bound is queued: catch-up waits for the client.
  virtual bool congested() const = 0;
  virtual bool open() const = 0;
  virtual void close(std::uint16_t code, std::string reason) = 0;
  // Like close, but the frames already queued (answers to the client's
  // frames) go out first; nothing new is queued meanwhile.
  virtual void close_after_queued(std::uint16_t code, std::string reason) {
    close(code, std::move(reason));
  }
};

class ClientSession final : public Subscriber, public std::enable_shared_from_this<ClientSession> {
 public:
  struct Limits {
    std::size_t max_in_flight = 64;  // client frames being handled at once
    int catch_up_page = 200;
    // A recheck waits a random while up to this, so that the connections
    // told at once do not all read at once.
    std::chrono::milliseconds recheck_spread{1000};
    // Presence frames handed over and not yet taken by the executor; more
    // close the connection like a client too slow to read (1013).
    std::size_t max_presence_waiting = 1024;
    // Told the seconds from each `send` frame's arrival to its answer.
    std::function<void(double)> on_send_answered;
  };

  ClientSession(ChatPort& chat, std::shared_ptr<Transport> transport, model::User user,
                std::string token_hash, Limits limits);

  // Subscriber (any thread).
  model::UserId user() const override { return user_.id; }
  const std::string& token_hash() const override { return token_hash_; }
  void deliver_event(model::ConversationId id, model::Seq seq, Frame frame) override;
  void deliver_frame(Frame frame) override;
  void deliver_presence(Frame frame) override;
  void recheck() override;
  void revoke() override;
  void shutdown() override;

  // Call after attaching to the hub: reads where each conversation stands
  // and starts live delivery from there. Runs on the executor.
  static Task<void> start(std::shared_ptr<ClientSession> self);
  // One client frame, on the executor.
  void on_frame(const std::string& text);
  std::size_t in_flight() const { return in_flight_; }

  // For tests: the connection's position in a conversation, if it has one.
  std::optional<std::pair<model::Seq, model::Seq>> position(model::ConversationId id) const;
  bool idle() const;  // no walk, no sync, nothing in flight

 private:
  struct Stream {
    model::Seq floor = 0;
    model::Seq cursor = 0;
    model::Seq wanted = 0;
    bool walking = false;
    bool queued = false;  // waits in gaps_ for the filler
  };
  struct SendSlot {
    nlohmann::json id;
    Frame answer;  // null until the send is answered
    std::chrono::steady_clock::time_point arrived;
  };
  struct SyncRequest {
    nlohmann::json id;
    std::unordered_map<model::ConversationId, model::Seq> cursors;
  };

  void on_live(model::ConversationId id, model::Seq seq, Frame frame);
  void take_presence();
  void queue_walk(model::ConversationId id);
  void send_frame(const nlohmann::json& frame, const nlohmann::json& id);
  void handle_send(const nlohmann::json& frame, const nlohmann::json& id);
  void answer_send(std::uint64_t n, Frame answer);
  void handle_typing(const nlohmann::json& frame, const nlohmann::json& id);
  void handle_sync(const nlohmann::json& frame, const nlohmann::json& id);
  void reply(Frame frame);
  void walk_ended();

  static Task<void> fill(std::shared_ptr<ClientSession> self);
  static Task<void> walk(std::shared_ptr<ClientSession> self, model::ConversationId id,
                         model::Seq from);
  static Task<void> run_syncs(std::shared_ptr<ClientSession> self);
  static Task<void> sync(std::shared_ptr<ClientSession> self, SyncRequest request);
  static Task<void> do_recheck(std::shared_ptr<ClientSession> self);
  static Task<void> read(std::shared_ptr<ClientSession> self, nlohmann::json id,
                         model::ConversationId conv, model::Seq seq);
  static Task<void> close_when_idle(std::shared_ptr<ClientSession> self);
  static Task<void> wait_for_walk(std::shared_ptr<ClientSession> self, model::ConversationId id);
  // Runs an answerable step, turning exceptions into an error frame.
  static Frame failure_frame(const nlohmann::json& id, std::exception_ptr ep, model::UserId user);

  ChatPort& chat_;
  std::shared_ptr<Transport> transport_;
  model::User user_;
  std::string token_hash_;
  Limits limits_;

  std::unordered_map<model::ConversationId, Stream> streams_;
  Fifo<model::ConversationId> gaps_;  // conversations waiting for a walk
  bool filling_ = false;
  int walks_ = 0;  // walks running (the filler's and a sync's)
  boost::asio::steady_timer walk_done_;  // woken whenever a walk ends

  std::size_t in_flight_ = 0;
  std::uint64_t sends_first_ = 0;  // number of sends_.front()
  Fifo<SendSlot> sends_;
  Fifo<SyncRequest> syncs_;
  bool syncing_ = false;
  bool rechecking_ = false;
  std::unordered_map<model::ConversationId, std::chrono::steady_clock::time_point> last_typing_;

  // Presence, handed over from the fan-out thread in runs: one task on the
  // executor per run, not one per frame, so a storm of presence does not
  // fill the executor's queue in front of the conversations' events. The
  // only state here touched off the executor, under presence_mu_. Set by
  // deliver_presence, emptied by take_presence (which the first frame of a
  // run posts); nothing else holds it.
  std::mutex presence_mu_;
  std::vector<Frame> presence_in_;
  bool presence_overflow_ = false;
};

}  // namespace chatd::realtime
