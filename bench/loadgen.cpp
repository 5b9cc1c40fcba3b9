// chatd_loadgen: the load generator of bench/run.sh. One IO thread, many
// keep-alive HTTP and WebSocket connections, coroutines throughout.
// Prints one JSON object with the figures of the scenario it ran.
//
//   chatd_loadgen send-rest   --port P --conns 64 --seconds 10 --users N
//   chatd_loadgen send-ws     --port P --conns 64 --seconds 10 --users N
//   chatd_loadgen e2e         --port P --rate 1000 --seconds 10 --users N --pairs 64
//   chatd_loadgen fanout      --port P --members 1000 --messages 20 --users N [--settle-ms 300]
//   chatd_loadgen connections --port P --count 10000 --users N --sources 4 [--conns 64] [--prefault 0]
//   chatd_loadgen history     --port P --conns 64 --seconds 10 --conv C [--before S]
//   chatd_loadgen search      --port P --conns 16 --seconds 10 --q WORD --user ID
//   chatd_loadgen window      --port P --pairs 100 --window 8 --seconds 10 --users N
//
// Users and tokens come from bench/setup.sql: token of user i is
// "bench" + i left-padded with zeros to 43 characters; conversation i is the
// direct conversation of users i and N+i; conversation N+1 the fan-out group.
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <malloc.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

namespace {

struct Options {
  std::string scenario;
  std::uint16_t port = 8080;
  int conns = 64, users = 64, pairs = 64, members = 1000, messages = 20, count = 1000, sources = 1;
  int window = 1;
  int prefault = 1;
  int settle_ms = 300;  // fanout: quiet wanted before the first message; 0: none
  double seconds = 10, rate = 1000;
  long long conv = 0, before = 0, user = 1;
  std::string q;
};

std::string token_of(long long user) {
  std::string id = std::to_string(user);
  return "bench" + std::string(38 - id.size(), '0') + id;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Latencies in microseconds; percentiles by sorting (exact).
struct Latencies {
  std::vector<std::uint32_t> us;
  void add(std::int64_t ns) { us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(ns / 1000, UINT32_MAX))); }
  double pct(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    std::size_t i = std::min(us.size() - 1, static_cast<std::size_t>(p * static_cast<double>(us.size())));
    return us[i] / 1000.0;
  }
  void report(Json& out) {
    out["p50_ms"] = pct(0.50);
    out["p99_ms"] = pct(0.99);
    out["p999_ms"] = pct(0.999);
  }
};

struct Shared {
  Options opt;
  Clock::time_point start, stop;
  long long done = 0, errors = 0;
  Latencies lat;
  std::int64_t storm_frames = 0;  // connections: frames the open sockets received
};

// The text of a message body that starts with `marker`, in an event frame.
// Event payloads come from PostgreSQL's jsonb output, which writes ": ".
std::string body_of(const std::string& text, char marker) {
  for (const char* key : {"\"body\": \"", "\"body\":\""}) {
    auto at = text.find(std::string(key) + marker);
    if (at != std::string::npos) return text.substr(at + std::strlen(key) + 1, 20);
  }
  return "";
}

asio::ip::address source_for(int i, int sources) {
  return asio::ip::make_address("127.0.0." + std::to_string(1 + (i % std::max(1, sources))));
}

// `tcp_ns`, when given, receives how long the TCP connect took (the rest of
// the call is the WebSocket handshake).
asio::awaitable<bool> connect_ws(websocket::stream<beast::tcp_stream>& ws, std::uint16_t port,
                                 std::string token, asio::ip::address source,
                                 std::int64_t* tcp_ns = nullptr) {
  auto t0 = now_ns();
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(ws).socket();
  sock.open(tcp::v4(), ec);
  sock.bind(tcp::endpoint(source, 0), ec);
  if (ec) co_return false;
  // A server that cannot accept (out of descriptors) must not hang the run.
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  co_await beast::get_lowest_layer(ws).async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  if (tcp_ns) *tcp_ns = now_ns() - t0;
  ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
    req.set(bhttp::field::authorization, "Bearer " + token);
  }));
  co_await ws.async_handshake("127.0.0.1", "/v1/ws", asio::redirect_error(asio::use_awaitable, ec));
  beast::get_lowest_layer(ws).expires_never();
  co_return !ec;
}

// ---- send-rest / history / search: closed-loop HTTP on one keep-alive connection
asio::awaitable<void> http_worker(std::shared_ptr<Shared> sh, int index) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  beast::error_code ec;
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), sh->opt.port),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) { ++sh->errors; co_return; }
  beast::flat_buffer buffer;
  bool search = sh->opt.scenario == "search";
  bool history = sh->opt.scenario == "history" || search;  // reads: GET, 200
  long long user = search ? sh->opt.user : history ? 1 : (index % sh->opt.users) + 1;
  std::string auth = "Bearer " + token_of(user);
  std::string target = search ? "/v1/search/messages?limit=20&q=" + sh->opt.q
      : history
      ? "/v1/conversations/" + std::to_string(sh->opt.conv) + "/messages?limit=50" +
            (sh->opt.before ? "&before=" + std::to_string(sh->opt.before) : "")
      : "/v1/conversations/" + std::to_string(user) + "/messages";
  long long n = 0;
  while (Clock::now() < sh->stop) {
    bhttp::request<bhttp::string_body> req{history ? bhttp::verb::get : bhttp::verb::post, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::authorization, auth);
    if (!history) {
      req.set(bhttp::field::content_type, "application/json");
      req.body() = "{\"client_msg_id\":\"r" + std::to_string(index) + "-" + std::to_string(++n) + "-" +
                   std::to_string(now_ns()) + "\",\"body\":\"bench message\"}";
    }
    req.prepare_payload();
    auto t0 = now_ns();
    co_await bhttp::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) { ++sh->errors; co_return; }
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) { ++sh->errors; co_return; }
    auto status = res.result_int();
    if ((history && status == 200) || (!history && status == 201)) {
      ++sh->done;
      sh->lat.add(now_ns() - t0);
    } else {
      ++sh->errors;
    }
  }
}

// ---- send-ws: closed-loop send → ack on one socket
asio::awaitable<void> ws_sender(std::shared_ptr<Shared> sh, int index) {
  auto ex = co_await asio::this_coro::executor;
  websocket::stream<beast::tcp_stream> ws(ex);
  long long user = (index % sh->opt.users) + 1;
  if (!co_await connect_ws(ws, sh->opt.port, token_of(user), source_for(index, 1))) { ++sh->errors; co_return; }
  beast::flat_buffer buffer;
  beast::error_code ec;
  long long n = 0;
  while (Clock::now() < sh->stop) {
    ++n;
    std::string frame = "{\"type\":\"send\",\"id\":" + std::to_string(n) +
                        ",\"conversation_id\":" + std::to_string(user) + ",\"client_msg_id\":\"w" +
                        std::to_string(index) + "-" + std::to_string(n) + "-" + std::to_string(now_ns()) +
                        "\",\"body\":\"bench message\"}";
    auto t0 = now_ns();
    co_await ws.async_write(asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) { ++sh->errors; co_return; }
    for (;;) {  // events of our own conversation arrive too: wait for the ack
      buffer.clear();
      co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) { ++sh->errors; co_return; }
      auto text = beast::buffers_to_string(buffer.data());
      if (text.rfind("{\"type\":\"ack\"", 0) == 0) break;
      if (text.find("\"type\":\"error\"") != std::string::npos) { ++sh->errors; break; }
    }
    ++sh->done;
    sh->lat.add(now_ns() - t0);
  }
  ws.async_close(websocket::close_code::normal, asio::detached);
}

// ---- e2e: receivers measure from the scheduled send time in the body
asio::awaitable<void> ws_receiver(std::shared_ptr<Shared> sh, std::shared_ptr<websocket::stream<beast::tcp_stream>> ws) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    buffer.clear();
    co_await ws->async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto text = beast::buffers_to_string(buffer.data());
    if (text.find("message.created") == std::string::npos) continue;
    auto digits = body_of(text, 't');
    if (digits.size() < 20) continue;
    auto scheduled = std::stoll(digits);
    ++sh->done;
    sh->lat.add(now_ns() - scheduled);
  }
}

// Reads and drops what the server sends; counts the frames in `frames`
// when given (it must outlive the socket's reads).
asio::awaitable<void> ws_drain(std::shared_ptr<websocket::stream<beast::tcp_stream>> ws,
                               std::int64_t* frames = nullptr) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    buffer.clear();
    co_await ws->async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (frames) ++*frames;
  }
}

asio::awaitable<void> e2e(std::shared_ptr<Shared> sh, Json* out) {
  auto ex = co_await asio::this_coro::executor;
  const auto& o = sh->opt;
  std::vector<std::shared_ptr<websocket::stream<beast::tcp_stream>>> senders, receivers;
  for (int i = 0; i < o.pairs; ++i) {
    auto s = std::make_shared<websocket::stream<beast::tcp_stream>>(ex);
    auto r = std::make_shared<websocket::stream<beast::tcp_stream>>(ex);
    bool ok = co_await connect_ws(*s, o.port, token_of(i + 1), source_for(i, 1));
    bool ok2 = co_await connect_ws(*r, o.port, token_of(o.users + i + 1), source_for(i, 1));
    if (!ok || !ok2) { ++sh->errors; co_return; }
    senders.push_back(s);
    receivers.push_back(r);
    asio::co_spawn(ex, ws_receiver(sh, r), asio::detached);
    asio::co_spawn(ex, ws_drain(s), asio::detached);
  }
  asio::steady_timer settle(ex, std::chrono::milliseconds(300));
  co_await settle.async_wait(asio::use_awaitable);
  // Fixed offered rate: send i is due at start + i/rate, whatever happened before.
  auto start = Clock::now();
  auto start_ns = now_ns();
  long long total = static_cast<long long>(o.rate * o.seconds);
  asio::steady_timer tick(ex);
  beast::error_code ec;
  for (long long i = 0; i < total; ++i) {
    auto due = start + std::chrono::nanoseconds(static_cast<long long>(i * 1e9 / o.rate));
    if (due > Clock::now()) {
      tick.expires_at(due);
      co_await tick.async_wait(asio::use_awaitable);
    }
    auto scheduled = start_ns + static_cast<long long>(i * 1e9 / o.rate);
    int p = static_cast<int>(i % o.pairs);
    char body[32];
    std::snprintf(body, sizeof body, "t%020lld", static_cast<long long>(scheduled));
    auto frame = std::make_shared<std::string>(
        "{\"type\":\"send\",\"conversation_id\":" + std::to_string(p + 1) + ",\"client_msg_id\":\"e" +
        std::to_string(i) + "-" + std::to_string(start_ns) + "\",\"body\":\"" + body + "\"}");
    // Each sender socket writes one frame at a time; queue behind a busy socket.
    co_await senders[p]->async_write(asio::buffer(*frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) ++sh->errors;
  }
  asio::steady_timer tail(ex, std::chrono::seconds(2));
  co_await tail.async_wait(asio::use_awaitable);
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count() - 2.0;
  (*out)["offered_per_s"] = o.rate;
  (*out)["sent"] = total;
  (*out)["delivered"] = sh->done;
  (*out)["delivered_per_s"] = sh->done / std::max(elapsed, 1e-9);
  for (auto& r : receivers) r->async_close(websocket::close_code::normal, asio::detached);
  for (auto& s : senders) s->async_close(websocket::close_code::normal, asio::detached);
}

// ---- window: closed-loop 1:1 pairs; each sender keeps W sends in flight on
// its socket, and a send leaves the window when the receiver gets its event.
struct Pair {
  explicit Pair(asio::any_io_executor ex) : sender(ex), receiver(ex), wake(ex) {
    wake.expires_at(Clock::time_point::max());
  }
  websocket::stream<beast::tcp_stream> sender, receiver;
  asio::steady_timer wake;  // cancelled when a send leaves the window
  int in_flight = 0;
};

asio::awaitable<void> window_receiver(std::shared_ptr<Shared> sh, std::shared_ptr<Pair> p) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    buffer.clear();
    co_await p->receiver.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto text = beast::buffers_to_string(buffer.data());
    if (text.find("message.created") == std::string::npos) continue;
    auto digits = body_of(text, 'w');
    if (digits.size() < 20) continue;
    if (Clock::now() < sh->stop) {
      ++sh->done;
      sh->lat.add(now_ns() - std::stoll(digits));
    }
    --p->in_flight;
    p->wake.cancel_one();
  }
}

asio::awaitable<void> window_sender(std::shared_ptr<Shared> sh, std::shared_ptr<Pair> p, int index) {
  beast::error_code ec;
  long long n = 0;
  while (Clock::now() < sh->stop) {
    if (p->in_flight >= sh->opt.window) {
      co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    char body[32];
    std::snprintf(body, sizeof body, "w%020lld", static_cast<long long>(now_ns()));
    ++n;
    std::string frame = "{\"type\":\"send\",\"id\":" + std::to_string(n) +
                        ",\"conversation_id\":" + std::to_string(index + 1) + ",\"client_msg_id\":\"x" +
                        std::to_string(n) + "-" + std::to_string(now_ns()) + "\",\"body\":\"" + body + "\"}";
    ++p->in_flight;
    co_await p->sender.async_write(asio::buffer(frame), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) { ++sh->errors; co_return; }
  }
}

asio::awaitable<void> window_drain(std::shared_ptr<Shared> sh, std::shared_ptr<Pair> p) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    buffer.clear();
    co_await p->sender.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    if (beast::buffers_to_string(buffer.data()).find("\"type\":\"error\"") != std::string::npos) {
      ++sh->errors;
      --p->in_flight;  // refused: it leaves the window too
      p->wake.cancel_one();
    }
  }
}

asio::awaitable<void> window(std::shared_ptr<Shared> sh, Json* out) {
  auto ex = co_await asio::this_coro::executor;
  const auto& o = sh->opt;
  std::vector<std::shared_ptr<Pair>> pairs;
  for (int i = 0; i < o.pairs; ++i) {
    auto p = std::make_shared<Pair>(ex);
    if (!co_await connect_ws(p->sender, o.port, token_of(i + 1), source_for(i, 1)) ||
        !co_await connect_ws(p->receiver, o.port, token_of(o.users + i + 1), source_for(i, 1))) {
      ++sh->errors;
      co_return;
    }
    pairs.push_back(p);
    asio::co_spawn(ex, window_receiver(sh, p), asio::detached);
    asio::co_spawn(ex, window_drain(sh, p), asio::detached);
  }
  asio::steady_timer settle(ex, std::chrono::milliseconds(300));
  co_await settle.async_wait(asio::use_awaitable);
  sh->start = Clock::now();
  sh->stop = sh->start + std::chrono::milliseconds(static_cast<long long>(o.seconds * 1000));
  for (int i = 0; i < o.pairs; ++i) asio::co_spawn(ex, window_sender(sh, pairs[i], i), asio::detached);
  asio::steady_timer wait(ex, sh->stop - Clock::now() + std::chrono::seconds(1));
  co_await wait.async_wait(asio::use_awaitable);
  (*out)["window"] = o.window;
  (*out)["pairs"] = o.pairs;
  (*out)["delivered"] = sh->done;
  (*out)["per_s"] = sh->done / o.seconds;
  for (auto& p : pairs) {
    p->wake.cancel();
    p->sender.async_close(websocket::close_code::normal, asio::detached);
    p->receiver.async_close(websocket::close_code::normal, asio::detached);
  }
}

// ---- fanout: one sender, M members connected; time to the last delivery
struct FanoutState {
  int members = 0;
  std::map<long long, std::pair<std::int64_t, int>> pending;  // message number -> (sent ns, deliveries)
  Latencies last;
  long long deliveries = 0;
  long long frames = 0;           // every frame received, presence included
  std::int64_t last_frame_ns = 0;
};

asio::awaitable<void> fan_receiver(std::shared_ptr<FanoutState> fs, std::shared_ptr<websocket::stream<beast::tcp_stream>> ws) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    buffer.clear();
    co_await ws->async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    ++fs->frames;
    fs->last_frame_ns = now_ns();
    auto text = beast::buffers_to_string(buffer.data());
    if (text.find("message.created") == std::string::npos) continue;
    auto digits = body_of(text, 'f').substr(0, 10);
    if (digits.size() < 10) continue;
    long long n = std::stoll(digits);
    auto it = fs->pending.find(n);
    if (it == fs->pending.end()) continue;
    ++fs->deliveries;
    if (++it->second.second == fs->members) {
      fs->last.add(now_ns() - it->second.first);
      fs->pending.erase(it);
    }
  }
}

asio::awaitable<void> fanout(std::shared_ptr<Shared> sh, Json* out) {
  auto ex = co_await asio::this_coro::executor;
  const auto& o = sh->opt;
  auto fs = std::make_shared<FanoutState>();
  fs->members = o.members;
  std::vector<std::shared_ptr<websocket::stream<beast::tcp_stream>>> sockets;
  auto t0 = Clock::now();
  for (int i = 0; i < o.members; ++i) {
    auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(ex);
    if (!co_await connect_ws(*ws, o.port, token_of(i + 1), source_for(i, 4))) { ++sh->errors; co_return; }
    sockets.push_back(ws);
    asio::co_spawn(ex, fan_receiver(fs, ws), asio::detached);
  }
  (*out)["connect_s"] = std::chrono::duration<double>(Clock::now() - t0).count();
  // The members coming online tell each other (presence: up to M*(M-1)/2
  // frames). The row measures fan-out to members already connected, so it
  // starts once the sockets have been quiet for --settle-ms (300 ms; at most
  // 30 s), and reports how long that took and what arrived meanwhile. With
  // --settle-ms 0 it starts 250 ms after the last connect, while that
  // presence is still on its way (the messages must not wait behind it):
  // long enough for the sessions' start, which fixes where each socket's
  // live delivery begins (a message committed before it is the client's to
  // sync, and this client does not).
  auto settle_start = Clock::now();
  asio::steady_timer pause(ex);
  if (o.settle_ms <= 0) {
    pause.expires_after(std::chrono::milliseconds(250));
    co_await pause.async_wait(asio::use_awaitable);
  }
  while (o.settle_ms > 0) {
    pause.expires_after(std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::use_awaitable);
    bool quiet = now_ns() - fs->last_frame_ns >= std::int64_t{o.settle_ms} * 1'000'000;
    if (quiet || Clock::now() - settle_start > std::chrono::seconds(30)) break;
  }
  (*out)["settle_s"] = std::chrono::duration<double>(Clock::now() - settle_start).count();
  (*out)["settle_frames"] = fs->frames;
  beast::tcp_stream http(ex);
  beast::error_code ec;
  co_await http.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port),
                              asio::redirect_error(asio::use_awaitable, ec));
  beast::flat_buffer buffer;
  auto start = Clock::now();
  for (int m = 0; m < o.messages; ++m) {
    char body[32];
    std::snprintf(body, sizeof body, "f%010d", m);
    bhttp::request<bhttp::string_body> req{bhttp::verb::post,
                                           "/v1/conversations/" + std::to_string(o.users + 1) + "/messages", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::authorization, "Bearer " + token_of(1));
    req.set(bhttp::field::content_type, "application/json");
    req.body() = "{\"client_msg_id\":\"fan" + std::to_string(m) + "-" + std::to_string(now_ns()) +
                 "\",\"body\":\"" + body + "\"}";
    req.prepare_payload();
    fs->pending[m] = {now_ns(), 0};
    co_await bhttp::async_write(http, req, asio::redirect_error(asio::use_awaitable, ec));
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(http, buffer, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || res.result_int() != 201) ++sh->errors;
    asio::steady_timer gap(ex, std::chrono::milliseconds(200));
    co_await gap.async_wait(asio::use_awaitable);
  }
  asio::steady_timer tail(ex, std::chrono::seconds(2));
  co_await tail.async_wait(asio::use_awaitable);
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  (*out)["messages"] = o.messages;
  (*out)["complete"] = o.messages - static_cast<int>(fs->pending.size());
  (*out)["deliveries"] = fs->deliveries;
  (*out)["deliveries_per_s"] = fs->deliveries / elapsed;
  (*out)["last_p50_ms"] = fs->last.pct(0.5);
  (*out)["last_p99_ms"] = fs->last.pct(0.99);
  for (auto& s : sockets) s->async_close(websocket::close_code::normal, asio::detached);
}

// The load generator's own memory for `bytes` of socket state, touched before
// a timed run and kept: the heap is grown in 1 MiB pieces that are written,
// freed and, with trimming off, not given back, so the sockets' allocations
// later reuse pages already mapped. Without it the load generator first-touches
// ~7.5 KiB per socket during the storm, and the kernel's page clearing for it
// took twice as long after the bench's earlier scenarios (clear_page_erms,
// docs/performance.md): a cost of the harness, counted against chatd.
void prefault_heap(std::size_t bytes) {
  mallopt(M_TRIM_THRESHOLD, INT32_MAX);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  constexpr std::size_t kPiece = 1 << 20;
  std::vector<void*> pieces;
  for (std::size_t done = 0; done < bytes; done += kPiece) {
    void* p = std::malloc(kPiece);
    if (!p) break;
    std::memset(p, 1, kPiece);
    pieces.push_back(p);
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) std::free(*it);
}

// ---- connections: open N authenticated sockets, --conns at a time (a
// reconnect storm: many clients at once, not one after another), then hold
// them idle.
asio::awaitable<void> connections(std::shared_ptr<Shared> sh, Json* out) {
  auto ex = co_await asio::this_coro::executor;
  const auto& o = sh->opt;
  using Socket = std::shared_ptr<websocket::stream<beast::tcp_stream>>;
  std::vector<Socket> sockets;
  sockets.reserve(static_cast<std::size_t>(o.count));
  if (o.prefault) prefault_heap(static_cast<std::size_t>(o.count) * 10 * 1024);
  int next = 0;
  int running = std::max(1, std::min(o.conns, o.count));
  asio::steady_timer all_done(ex, std::chrono::steady_clock::time_point::max());
  Latencies total, tcp;  // per socket: all of it, and the TCP connect alone
  auto opener = [&]() -> asio::awaitable<void> {
    // The server is refusing: stop opening and report what was held.
    while (next < o.count && sh->errors < 20) {
      int i = next++;
      auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(ex);
      auto t0 = now_ns();
      std::int64_t tcp_ns = 0;
      if (!co_await connect_ws(*ws, o.port, token_of((i % (2 * o.users)) + 1),
                               source_for(i, o.sources), &tcp_ns)) {
        ++sh->errors;
        continue;
      }
      total.add(now_ns() - t0);
      tcp.add(tcp_ns);
      sockets.push_back(ws);
      asio::co_spawn(ex, ws_drain(ws, &sh->storm_frames), asio::detached);
    }
    if (--running == 0) all_done.cancel();
  };
  auto faults = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<long long>(u.ru_minflt + u.ru_majflt);
  };
  const long long faults0 = faults();
  auto t0 = Clock::now();
  const int openers = running;
  for (int k = 0; k < openers; ++k) asio::co_spawn(ex, opener(), asio::detached);
  beast::error_code ec;
  co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  (*out)["opened"] = static_cast<long long>(sockets.size());
  (*out)["loadgen_page_faults"] = faults() - faults0;
  (*out)["connect_per_s"] = sockets.size() / secs;
  (*out)["concurrent"] = openers;
  (*out)["connect_p50_ms"] = total.pct(0.5);
  (*out)["connect_p99_ms"] = total.pct(0.99);
  (*out)["connect_max_ms"] = total.pct(1.0);
  (*out)["tcp_p50_ms"] = tcp.pct(0.5);
  (*out)["tcp_p99_ms"] = tcp.pct(0.99);
  // What the open sockets received while the others were opening (the
  // presence of users coming online, to their contacts' sockets).
  (*out)["frames_received"] = static_cast<long long>(sh->storm_frames);
  // Hold them while bench/run.sh reads chatd's memory, signalled on stdout.
  std::cout << "{\"holding\":" << sockets.size() << "}" << std::endl;
  asio::steady_timer hold(ex, std::chrono::milliseconds(static_cast<long long>(o.seconds * 1000)));
  co_await hold.async_wait(asio::use_awaitable);
  for (auto& s : sockets) s->async_close(websocket::close_code::normal, asio::detached);
}

asio::awaitable<void> closed_loop(std::shared_ptr<Shared> sh, Json* out) {
  auto ex = co_await asio::this_coro::executor;
  sh->start = Clock::now();
  sh->stop = sh->start + std::chrono::milliseconds(static_cast<long long>(sh->opt.seconds * 1000));
  for (int i = 0; i < sh->opt.conns; ++i) {
    if (sh->opt.scenario == "send-ws") asio::co_spawn(ex, ws_sender(sh, i), asio::detached);
    else asio::co_spawn(ex, http_worker(sh, i), asio::detached);
  }
  asio::steady_timer wait(ex, sh->stop - Clock::now() + std::chrono::milliseconds(500));
  co_await wait.async_wait(asio::use_awaitable);
  (*out)["done"] = sh->done;
  (*out)["per_s"] = sh->done / sh->opt.seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: chatd_loadgen SCENARIO [--port P] [--conns N] [--seconds S] ...\n";
    return 2;
  }
  auto sh = std::make_shared<Shared>();
  Options& o = sh->opt;
  o.scenario = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--port") o.port = static_cast<std::uint16_t>(std::stoi(v));
    else if (k == "--conns") o.conns = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--users") o.users = std::stoi(v);
    else if (k == "--pairs") o.pairs = std::stoi(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--members") o.members = std::stoi(v);
    else if (k == "--messages") o.messages = std::stoi(v);
    else if (k == "--count") o.count = std::stoi(v);
    else if (k == "--sources") o.sources = std::stoi(v);
    else if (k == "--conv") o.conv = std::stoll(v);
    else if (k == "--before") o.before = std::stoll(v);
    else if (k == "--window") o.window = std::stoi(v);
    else if (k == "--prefault") o.prefault = std::stoi(v);
    else if (k == "--settle-ms") o.settle_ms = std::stoi(v);
    else if (k == "--q") o.q = v;
    else if (k == "--user") o.user = std::stoll(v);
    else { std::cerr << "unknown option " << k << "\n"; return 2; }
  }
  asio::io_context ioc(1);
  Json out = {{"scenario", o.scenario}};
  // The scenario's end stops the loop; sockets still open are simply dropped.
  auto finished = [&ioc](std::exception_ptr e) {
    if (e) {
      try { std::rethrow_exception(e); } catch (const std::exception& x) { std::cerr << x.what() << "\n"; }
    }
    ioc.stop();
  };
  if (o.scenario == "send-rest" || o.scenario == "send-ws" || o.scenario == "history" ||
      o.scenario == "search") {
    asio::co_spawn(ioc, closed_loop(sh, &out), finished);
  } else if (o.scenario == "e2e") {
    asio::co_spawn(ioc, e2e(sh, &out), finished);
  } else if (o.scenario == "fanout") {
    asio::co_spawn(ioc, fanout(sh, &out), finished);
  } else if (o.scenario == "window") {
    asio::co_spawn(ioc, window(sh, &out), finished);
  } else if (o.scenario == "connections") {
    asio::co_spawn(ioc, connections(sh, &out), finished);
  } else {
    std::cerr << "unknown scenario " << o.scenario << "\n";
    return 2;
  }
  // A generous deadline in case a scenario hangs.
  ioc.run_for(std::chrono::seconds(static_cast<long long>(o.seconds) + 120 + o.count / 100));
  if (o.scenario != "fanout" && o.scenario != "connections") sh->lat.report(out);
  out["errors"] = sh->errors;
  std::cout << out.dump() << std::endl;
  return 0;
}
