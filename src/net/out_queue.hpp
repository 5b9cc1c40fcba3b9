// Private to the network layer: a WebSocket's frames waiting to be written.
//
// Two lanes, each first in, first out. The first holds everything a client
// acts on: answers to its frames, conversation events, read, typing,
// conversation_state, and the control frames. The second holds frames that
// may wait (presence): it is written only when the first is empty. So when
// a presence storm has queued hundreds of frames on a socket (a group of
// mutual contacts reconnecting), a message written after them still goes
// out next, not behind them (docs/performance.md, change 15). Within a lane
// the order is the order given, so a user's online and offline stay in
// order; across lanes it is not kept, which presence does not need: it
// carries no seq and nothing else refers to it.
//
// The bounds count both lanes: frames and text bytes queued (a client too
// slow for them is closed by the caller). Holds no memory while empty.
#pragma once

#include <cstddef>
#include <utility>

#include "chatd/core/fifo.hpp"
#include "chatd/realtime/frames.hpp"
#include "ws_wire.hpp"

namespace chatd::net {

struct OutFrame {
  realtime::Frame payload;
  ws::Opcode op = ws::Opcode::text;
};

class OutQueue {
 public:
  enum class Lane { first, deferred };

  bool empty() const { return first_.empty() && deferred_.empty(); }
  std::size_t frames() const { return first_.size() + deferred_.size(); }
  std::size_t bytes() const { return bytes_; }  // of the text frames queued

  void push(OutFrame frame, Lane lane = Lane::first) {
    if (frame.op == ws::Opcode::text) bytes_ += frame.payload->size();
    (lane == Lane::first ? first_ : deferred_).push_back(std::move(frame));
  }

  // The first lane's front, or else the deferred lane's. Not empty().
  OutFrame pop() {
    auto& lane = first_.empty() ? deferred_ : first_;
    OutFrame out = std::move(lane.front());
    lane.pop_front();
    if (out.op == ws::Opcode::text) bytes_ -= out.payload->size();
    return out;
  }

  void clear() {
    first_.clear();
    deferred_.clear();
    bytes_ = 0;
  }

 private:
  Fifo<OutFrame> first_;
  Fifo<OutFrame> deferred_;
  std::size_t bytes_ = 0;
};

}  // namespace chatd::net
