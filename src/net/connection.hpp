// Private to the network layer: one accepted TCP connection and the server's
// shared state, used by the HTTP and WebSocket sessions.
#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <chrono>
#include <ctime>
#include <unordered_map>
#include <vector>

#include "chatd/http/message.hpp"
#include "chatd/net/server.hpp"
#include "http_parse.hpp"

namespace chatd::net {

// CLOCK_MONOTONIC as of the kernel's last tick (a few milliseconds old at
// most): steady_clock's clock, read without the TSC. For deadlines of seconds,
// set twice per request.
inline std::chrono::steady_clock::time_point coarse_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(std::chrono::seconds(ts.tv_sec) +
                                               std::chrono::nanoseconds(ts.tv_nsec));
}

// "address:port" of the socket's peer, for logs; empty once it is gone.
inline std::string peer_text(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string() + ":" + std::to_string(ep.port());
}

struct Connection {
  explicit Connection(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  boost::beast::tcp_stream stream;
  // True only while waiting for the first byte of the next HTTP request: such
  // a connection has nothing in flight and may be closed at shutdown. Touched
  // only on the connection's thread (its io_context).
  bool idle = true;

  // The deadline of the read or write under way, enforced by the thread's
  // DeadlineList (within one sweep period); none between them.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  void arm(std::chrono::milliseconds limit) { deadline = coarse_now() + limit; }
  void disarm() { deadline = std::chrono::steady_clock::time_point::max(); }
  std::size_t deadline_slot = 0;  // its index in the DeadlineList
};

// Pointers that each know their index in the list (their `Slot` member):
// adding and removing cost O(1), for the per-thread lists a sweep walks.
template <class T, std::size_t T::*Slot>
class SlotList {
 public:
  void add(T* x) {
    x->*Slot = items_.size();
    items_.push_back(x);
  }
  // False when `x` is not in the list.
  bool remove(T* x) {
    std::size_t i = x->*Slot;
    if (i >= items_.size() || items_[i] != x) return false;
    items_[i] = items_.back();
    items_[i]->*Slot = i;
    items_.pop_back();
    return true;
  }
  // Calls f(x) for each x; f may remove x, and no other.
  template <class F>
  void for_each(F&& f) {
    for (std::size_t i = 0; i < items_.size();) {
      T* x = items_[i];
      f(x);
      // An x that left moved the last one into its slot: look at that next.
      if (i < items_.size() && items_[i] == x) ++i;
    }
  }
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<T*> items_;
};

// The HTTP connections of one IO thread, for their read and write deadlines:
// one sweep per thread cancels the socket operations of every connection
// whose deadline has passed, instead of a timer armed and cancelled around
// every read and every write (two timer-queue updates per request, and a
// timerfd_settime in one request of five, in a /healthz profile). Touched
// only on that thread. Invariant: a connection is in the list from the start
// of its HTTP session to its end (or to its upgrade to a WebSocket, which
// keeps its own timers), and only then.
class DeadlineList {
 public:
  void add(Connection* c) { conns_.add(c); }
  void remove(Connection* c) { conns_.remove(c); }
  // Cancels what each connection past its deadline is waiting for; its
  // session sees operation_aborted and closes.
  void expire(std::chrono::steady_clock::time_point now);
  std::size_t size() const { return conns_.size(); }

 private:
  SlotList<Connection, &Connection::deadline_slot> conns_;
};

// The open WebSockets of one IO thread, for their keep-alive: one sweep per
// thread pings a socket silent for half its idle timeout and closes one
// silent for all of it, or one whose close handshake has not finished in
// time. No timer per socket. Touched only on that thread. Invariant: a
// socket is in the list from the end of its upgrade until its TCP socket is
// closed (or it is destroyed), and only then.
class KeepAliveList {
 public:
  // `open`: the count across every thread's list (for the metrics).
  explicit KeepAliveList(std::atomic<std::size_t>* open = nullptr) : open_(open) {}
  struct Member {
    virtual ~Member() = default;
    // May close its socket, and so leave the list, but touches no other member.
    virtual void keep_alive(std::chrono::steady_clock::time_point now) = 0;
    std::size_t keep_alive_slot = 0;
  };
  void add(Member* m) {
    members_.add(m);
    if (open_) open_->fetch_add(1);
  }
  void remove(Member* m) {
    if (members_.remove(m) && open_) open_->fetch_sub(1);
  }
  void sweep(std::chrono::steady_clock::time_point now) {
    members_.for_each([now](Member* m) { m->keep_alive(now); });
  }
  std::size_t size() const { return members_.size(); }

 private:
  SlotList<Member, &Member::keep_alive_slot> members_;
  std::atomic<std::size_t>* open_;
};


struct Server::State : std::enable_shared_from_this<Server::State> {
  State(boost::asio::io_context& io, ServerOptions opt, http::Dispatcher& d, WebSocketGateway* g,
        std::vector<boost::asio::io_context*> ctxs)
      : ioc(io), contexts(std::move(ctxs)), options(std::move(opt)), dispatcher(d), gateway(g),
        acceptor(std::in_place, boost::asio::make_strand(io)) {
    if (contexts.empty()) contexts.push_back(&ioc);
  }
  // The index in `contexts` of the next accepted connection's context.
  std::size_t next_context() { return next_context_index++ % contexts.size(); }

  boost::asio::io_context& ioc;
  std::vector<boost::asio::io_context*> contexts;
  std::size_t next_context_index = 0;  // only the accept loop touches it
  ServerOptions options;
  http::Dispatcher& dispatcher;
  WebSocketGateway* gateway;
  // Reset by ~Server, while every IO context still exists: the state itself
  // may outlive them, held by an operation released while a context is
  // destroyed, and must then hold no I/O object of its own.
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  // One per context, each touched only on its context's thread.
  std::vector<DeadlineList> deadlines{contexts.empty() ? 1 : contexts.size()};
  std::atomic<std::size_t> open_websockets{0};
  std::vector<KeepAliveList> keep_alive{contexts.empty() ? 1 : contexts.size(),
                                        KeepAliveList(&open_websockets)};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> in_flight{0};

  std::mutex mu;
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> connections;

  std::uint64_t track(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu);
    connections.emplace(++next_id, c);
    return next_id;
  }
  void untrack(std::uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
  }
};

}  // namespace chatd::net
